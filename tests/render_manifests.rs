//! Rendered manifests of both profiles: snapshots (secrets deterministic and redacted), every
//! Strimzi resource valid against the bundled CRD schema of its version (including unknown
//! fields, as the API server's strict field validation would reject them), every core object a
//! well-formed k8s-openapi type.

use amqdr::certs::CertificateAuthority;
use amqdr::kube::object::Manifest;
use amqdr::material::{Material, Provenance};
use amqdr::plan::show;
use amqdr::plan::{Plan, Scope};
use amqdr::profile::Profile;
use amqdr::render;
use amqdr::settings::{Origin, Override, Settings, SettingsSource, Sources};
use amqdr::truststore::CaTrustStore;
use serde_json::Value;

// The stand-in's copy of the operator's listener rules, independent of amqdr's validation.
use amqdr_standins::listeners_validator;

fn fixed_material() -> Material {
    Material {
        ca: CertificateAuthority {
            cert_pem: "-----BEGIN CERTIFICATE-----\nTEST-CA\n-----END CERTIFICATE-----\n".into(),
            key_pem: "-----BEGIN PRIVATE KEY-----\nTEST-KEY\n-----END PRIVATE KEY-----\n".into(),
        },
        ca_provenance: Provenance::Generated,
        ca_truststore: CaTrustStore { p12: b"TEST-P12".to_vec(), password: "test-store-password".into() },
        password: "test-password".into(),
        mirror_password: "test-mirror-password".into(),
        dr_password: "test-dr-password".into(),
        password_provenance: Provenance::Generated,
        pull_secret: Some(br#"{"auths":{"registry.example.com":{"auth":"dGVzdDp0ZXN0"}}}"#.to_vec()),
    }
}

fn settings(overrides: &[(&str, &str)]) -> Settings {
    let sources = Sources {
        config_file: None,
        overrides: overrides
            .iter()
            .map(|(p, v)| Override { path: p.to_string(), raw: v.to_string(), origin: Origin::Flag(p.to_string()) })
            .collect(),
    };
    SettingsSource::load(&sources).unwrap().settings
}

fn plan(s: &Settings) -> Plan {
    Plan::build(s, &fixed_material(), Scope::Install).unwrap()
}

/// Objects amqdr renders itself (the bundled Strimzi CRDs and ClusterRoles are upstream copies).
fn own_objects(p: &Plan) -> Vec<&Manifest> {
    p.objects().filter(|o| o.kind() != "CustomResourceDefinition" && o.kind() != "ClusterRole").collect()
}

#[test]
fn snapshot_current() {
    let s = settings(&[]);
    let p = plan(&s);
    insta::assert_snapshot!("plan_current", show::plan_table(&p));
    insta::assert_snapshot!("manifests_current", render::to_yaml_documents(own_objects(&p), false).unwrap());
}

#[test]
fn snapshot_legacy() {
    let s = settings(&[("profile", "legacy")]);
    let p = plan(&s);
    insta::assert_snapshot!("plan_legacy", show::plan_table(&p));
    insta::assert_snapshot!("manifests_legacy", render::to_yaml_documents(own_objects(&p), false).unwrap());
}

#[test]
fn secrets_are_redacted_unless_asked() {
    let p = plan(&settings(&[]));
    let redacted = render::to_yaml_documents(p.objects(), false).unwrap();
    assert!(!redacted.contains("dGVzdC1wYXNzd29yZA=="), "password (base64) leaked");
    assert!(!redacted.contains("TEST-KEY"));
    assert!(!redacted.contains("VEVTVC1QMTI="), "ca.p12 leaked");
    assert!(!redacted.contains("dGVzdC1zdG9yZS1wYXNzd29yZA=="), "ca.password leaked");
    let shown = render::to_yaml_documents(p.objects(), true).unwrap();
    assert!(shown.contains("dGVzdC1wYXNzd29yZA=="));
    assert!(shown.contains("VEVTVC1QMTI=") && shown.contains("dGVzdC1zdG9yZS1wYXNzd29yZA=="));
}

#[test]
fn two_contexts_apply_cluster_wide_objects_per_cluster() {
    let one = plan(&settings(&[]));
    let two = plan(&settings(&[("sites.a.context", "prod"), ("sites.b.context", "dr")]));
    assert_eq!(one.stages[0].lanes.len(), 1);
    assert_eq!(two.stages[0].lanes.len(), 2);
    let crds = |p: &Plan| p.objects().filter(|o| o.kind() == "CustomResourceDefinition").count();
    assert_eq!(crds(&two), 2 * crds(&one));
}

#[test]
fn cluster_role_binding_names_differ_between_sites() {
    let p = plan(&settings(&[]));
    let names: Vec<&str> = p.objects().filter(|o| o.kind() == "ClusterRoleBinding").map(|o| o.name()).collect();
    assert_eq!(names.len(), 6);
    let unique: std::collections::BTreeSet<_> = names.iter().collect();
    assert_eq!(unique.len(), 6, "{names:?}");
    for o in p.objects().filter(|o| o.kind().ends_with("Binding")) {
        let subject_ns = o.0["subjects"][0]["namespace"].as_str().unwrap();
        assert!(subject_ns.starts_with("amq-operator-"), "{}: subject namespace {subject_ns}", o.describe());
        assert_ne!(subject_ns, "myproject");
    }
}

#[test]
fn operator_deployment_is_paused_and_watches_its_site() {
    for profile in ["legacy", "current"] {
        let p = plan(&settings(&[("profile", profile)]));
        let deployments: Vec<&Manifest> = p.objects().filter(|o| o.kind() == "Deployment").collect();
        assert_eq!(deployments.len(), 2);
        for d in deployments {
            assert_eq!(d.0["spec"]["paused"], true);
            let env = d.0["spec"]["template"]["spec"]["containers"][0]["env"].as_array().unwrap();
            let watched = env.iter().find(|e| e["name"] == "STRIMZI_NAMESPACE").unwrap();
            let ns = d.namespace().unwrap().replace("amq-operator", "datacenter");
            assert_eq!(watched["value"], ns.as_str());
        }
    }
}

#[test]
fn cluster_ca_secrets_precede_kafka_and_mirror_follows_sites() {
    let p = plan(&settings(&[]));
    for site_ns in ["datacenter-a", "datacenter-b"] {
        let pos = |pred: &dyn Fn(&Manifest) -> bool| p.objects().position(|o| o.namespace() == Some(site_ns) && pred(o)).unwrap();
        let ca = pos(&|o| o.name().ends_with("-cluster-ca"));
        let kafka = pos(&|o| o.kind() == "Kafka");
        assert!(ca < kafka);
    }
    assert_eq!(p.stages.last().unwrap().name, "mirror");
}

fn crd_schema(crds: &[Manifest], api_version: &str, kind: &str) -> Value {
    let (group, version) = api_version.split_once('/').unwrap();
    let crd = crds
        .iter()
        .find(|c| c.0["spec"]["group"] == group && c.0["spec"]["names"]["kind"] == kind)
        .unwrap_or_else(|| panic!("no CRD for {kind}.{group}"));
    let v = crd.0["spec"]["versions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == version && v["served"] == true)
        .unwrap_or_else(|| panic!("{kind}: version {version} not served by the bundled CRD"));
    v["schema"]["openAPIV3Schema"].clone()
}

/// Fields the schema does not declare: the API server rejects them with strict field validation.
fn unknown_fields(value: &Value, schema: &Value, path: &str, out: &mut Vec<String>) {
    if schema.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true)) {
        return;
    }
    match value {
        Value::Object(map) => {
            let props = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties");
            for (k, v) in map {
                if path.is_empty() && (k == "apiVersion" || k == "kind" || k == "metadata") {
                    continue;
                }
                let child_path = format!("{path}.{k}");
                match (props.and_then(|p| p.get(k)), additional) {
                    (Some(s), _) => unknown_fields(v, s, &child_path, out),
                    (None, Some(Value::Object(s))) => unknown_fields(v, &Value::Object(s.clone()), &child_path, out),
                    (None, Some(Value::Bool(true))) => {}
                    (None, _) => out.push(child_path),
                }
            }
        }
        Value::Array(items) => {
            if let Some(s) = schema.get("items") {
                for (i, v) in items.iter().enumerate() {
                    unknown_fields(v, s, &format!("{path}[{i}]"), out);
                }
            }
        }
        _ => {}
    }
}

fn check_custom_resources(profile: Profile, overrides: &[(&str, &str)]) {
    let s = settings(overrides);
    assert_eq!(s.profile, profile);
    let p = plan(&s);
    let crds = render::crds(profile).unwrap();
    let mut checked = 0;
    for o in p.objects().filter(|o| o.api_version().contains("strimzi.io")) {
        let schema = crd_schema(&crds, o.api_version(), o.kind());
        let validator = jsonschema::validator_for(&schema).unwrap();
        let errors: Vec<String> = validator.iter_errors(&o.0).map(|e| format!("{} at {}", e, e.instance_path())).collect();
        assert!(errors.is_empty(), "{} violates its CRD schema: {errors:#?}", o.describe());
        let mut unknown = Vec::new();
        unknown_fields(&o.0, &schema, "", &mut unknown);
        assert!(unknown.is_empty(), "{} has fields its CRD does not declare: {unknown:?}", o.describe());
        checked += 1;
    }
    assert!(checked >= 7, "only {checked} Strimzi resources checked");
}

#[test]
fn strimzi_resources_match_their_crds() {
    check_custom_resources(Profile::Current, &[]);
    check_custom_resources(Profile::Legacy, &[("profile", "legacy")]);
    for listener in ["loadbalancer", "nodeport"] {
        check_custom_resources(Profile::Legacy, &[("profile", "legacy"), ("kafka.listener.type", listener)]);
        check_custom_resources(Profile::Current, &[("kafka.listener.type", listener)]);
    }
    check_custom_resources(
        Profile::Current,
        &[
            ("kafka.listener.type", "tlsroute"),
            ("kafka.listener.bootstrapHost", "bootstrap.kafka.example.com"),
            ("kafka.listener.brokerHostTemplate", "broker-{nodeId}.kafka.example.com"),
            ("kafka.listener.gateway", "{name: kafka-gateway, namespace: gateways, sectionName: tls}"),
        ],
    );
    check_custom_resources(Profile::Current, &[("kafka.storage.type", "ephemeral"), ("topic.name", "Orders_EU.v1")]);
    check_custom_resources(
        Profile::Legacy,
        &[("profile", "legacy"), ("kafka.storage.class", "fast"), ("kafka.retentionBytes", "1073741824")],
    );
}

fn strip_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(m.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.clone(), strip_nulls(v))).collect()),
        Value::Array(a) => Value::Array(a.iter().map(strip_nulls).collect()),
        other => other.clone(),
    }
}

/// Deserialize into the typed object and back: a field dropped on the way was unknown.
fn roundtrip<T: serde::de::DeserializeOwned + serde::Serialize>(o: &Manifest) {
    let typed: T = serde_json::from_value(o.0.clone()).unwrap_or_else(|e| panic!("{}: {e}", o.describe()));
    let back = strip_nulls(&serde_json::to_value(&typed).unwrap());
    let mut original = strip_nulls(&o.0);
    // k8s-openapi reads quantities and int-or-string as strings; compare on JSON text of both.
    if let (Some(a), Some(b)) = (original.as_object_mut(), back.as_object()) {
        for key in a.keys().cloned().collect::<Vec<_>>() {
            assert!(b.contains_key(&key), "{}: top-level field {key} unknown to the typed object", o.describe());
        }
    }
    assert_eq!(
        serde_json::to_string(&sorted(&original)).unwrap(),
        serde_json::to_string(&sorted(&back)).unwrap(),
        "{} does not round-trip through its k8s-openapi type",
        o.describe()
    );
}

fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            Value::Object(keys.into_iter().map(|k| (k.clone(), sorted(&m[k]))).collect())
        }
        Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

#[test]
fn core_objects_are_well_formed_k8s_openapi_types() {
    use k8s_openapi::api::apps::v1::Deployment;
    use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret, ServiceAccount};
    use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, RoleBinding};
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
    for profile in ["legacy", "current"] {
        let p = plan(&settings(&[("profile", profile)]));
        let mut kinds = std::collections::BTreeSet::new();
        for o in p.objects() {
            match (o.api_version(), o.kind()) {
                ("v1", "Namespace") => roundtrip::<Namespace>(o),
                ("v1", "ServiceAccount") => roundtrip::<ServiceAccount>(o),
                ("v1", "Secret") => roundtrip::<Secret>(o),
                ("v1", "ConfigMap") => roundtrip::<ConfigMap>(o),
                ("apps/v1", "Deployment") => roundtrip::<Deployment>(o),
                ("rbac.authorization.k8s.io/v1", "RoleBinding") => roundtrip::<RoleBinding>(o),
                ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding") => roundtrip::<ClusterRoleBinding>(o),
                ("rbac.authorization.k8s.io/v1", "ClusterRole") => roundtrip::<ClusterRole>(o),
                ("apiextensions.k8s.io/v1", "CustomResourceDefinition") => {
                    let _: CustomResourceDefinition =
                        serde_json::from_value(o.0.clone()).unwrap_or_else(|e| panic!("{}: {e}", o.describe()));
                }
                (av, _) if av.contains("strimzi.io") => continue,
                (av, k) => panic!("unexpected core object {av} {k}"),
            }
            kinds.insert(o.kind().to_string());
        }
        assert!(kinds.len() >= 9, "{kinds:?}");
    }
}

/// Every listener amqdr renders, for every type and option it accepts, passes the operator's
/// ListenersValidator of the profile's release (and what it refuses would not have).
#[test]
fn rendered_listeners_pass_the_operators_listener_rules() {
    use amqdr::settings::validate::validate;
    let tlsroute_options: &[(&str, &str)] = &[
        ("kafka.listener.bootstrapHost", "kafka.example.com"),
        ("kafka.listener.brokerHostTemplate", "broker-{nodeId}.example.com"),
        ("kafka.listener.gateway", r#"{"name": "gw", "namespace": "gateways", "sectionName": "tls"}"#),
    ];
    for profile in [Profile::Legacy, Profile::Current] {
        let strimzi = if profile == Profile::Current { listeners_validator::Strimzi::V1_2 } else { listeners_validator::Strimzi::V0_45 };
        for listener in profile.listener_types() {
            for bootstrap_host in [None, Some("kafka.example.com")] {
                let mut overrides: Vec<(&str, &str)> = vec![("profile", profile.as_str()), ("kafka.listener.type", listener.as_str())];
                if *listener == amqdr::profile::ListenerType::Tlsroute {
                    overrides.extend_from_slice(tlsroute_options);
                } else if let Some(h) = bootstrap_host {
                    overrides.push(("kafka.listener.bootstrapHost", h));
                }
                let sources = Sources {
                    config_file: None,
                    overrides: overrides
                        .iter()
                        .map(|(p, v)| Override { path: p.to_string(), raw: v.to_string(), origin: Origin::Flag(p.to_string()) })
                        .collect(),
                };
                let source = SettingsSource::load(&sources).unwrap();
                let accepted = validate(&source).is_ok();
                let s = source.settings;
                let p = plan(&s);
                for kafka in p.objects().filter(|o| o.kind() == "Kafka") {
                    let listeners = kafka.0.pointer("/spec/kafka/listeners").and_then(Value::as_array).cloned().unwrap();
                    let broker_ids: Vec<i64> = (0..i64::from(s.kafka.brokers)).collect();
                    let errors = listeners_validator::errors(strimzi, &listeners, &broker_ids);
                    assert_eq!(
                        errors.is_empty(),
                        accepted,
                        "{profile} {listener} bootstrapHost={bootstrap_host:?}: amqdr accepts={accepted}, operator errors {errors:?}"
                    );
                }
            }
        }
    }
}

/// With a mirror registry no image of the operator Deployment is left on quay.io; the Deployment
/// still names every image variable of upstream's install file.
#[test]
fn image_registry_reaches_every_image_variable() {
    for profile in [Profile::Legacy, Profile::Current] {
        let s = settings(&[("profile", profile.as_str()), ("images.registry", "mirror.example.com:5000")]);
        let p = plan(&s);
        let deployment = p.objects().find(|o| o.kind() == "Deployment").unwrap();
        let container = &deployment.0["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(container["image"], format!("mirror.example.com:5000/strimzi/operator:{}", profile.strimzi_version()));
        let env = container["env"].as_array().unwrap();
        let image_vars: Vec<&Value> =
            env.iter().filter(|e| e["name"].as_str().unwrap().contains("IMAGE") || e["name"] == "STRIMZI_DEFAULT_MAVEN_BUILDER").collect();
        // Twelve image variables in either release (0.45.2 has MirrorMaker 1, 1.2.0 Buildah), plus STRIMZI_IMAGE_PULL_SECRETS.
        let expected = 13;
        assert_eq!(image_vars.len(), expected, "{image_vars:#?}");
        for var in image_vars.iter().filter(|v| v["name"] != "STRIMZI_IMAGE_PULL_SECRETS") {
            for line in var["value"].as_str().unwrap().lines() {
                let image = line.split_once('=').map(|(_, i)| i).unwrap_or(line);
                assert!(image.starts_with("mirror.example.com:5000/strimzi/"), "{}: {image}", var["name"]);
            }
        }
    }
}

const HEALTH: [(&str, &str); 2] = [("health.enabled", "true"), ("health.image", "registry.example.com/amqdr:0.1.0")];

fn with_health(extra: &[(&'static str, &'static str)]) -> Settings {
    let mut all: Vec<(&str, &str)> = HEALTH.to_vec();
    all.extend_from_slice(extra);
    settings(&all)
}

fn health_objects(p: &Plan) -> Vec<&Manifest> {
    let stage = p.stages.iter().find(|s| s.name == "health").expect("a health stage");
    stage
        .lanes
        .iter()
        .flat_map(|l| l.steps.iter())
        .filter_map(|s| match &s.action {
            amqdr::plan::Action::Apply { object } => Some(object),
            _ => None,
        })
        .collect()
}

#[test]
fn snapshot_health() {
    let p = plan(&with_health(&[]));
    insta::assert_snapshot!("manifests_health_current", render::to_yaml_documents(health_objects(&p), false).unwrap());
    assert!(plan(&settings(&[])).stages.iter().all(|s| s.name != "health"), "health is off by default");
}

#[test]
fn health_stage_discovers_the_peer_then_deploys_and_waits() {
    use amqdr::kube::conditions::Condition;
    use amqdr::plan::Action;
    for profile in ["legacy", "current"] {
        let p = plan(&with_health(&[("profile", profile)]));
        let stage = p.stages.last().unwrap();
        assert_eq!(stage.name, "health");
        for lane in &stage.lanes {
            let peer = lane.site.other();
            assert!(matches!(&lane.steps[0].action, Action::DiscoverBootstrap { site, .. } if *site == peer), "{:?}", lane.steps[0]);
            assert!(
                matches!(&lane.steps.last().unwrap().action, Action::Wait { target, condition: Condition::Available } if target.kind == "Deployment")
            );
            let deployment = lane
                .steps
                .iter()
                .find_map(|s| match &s.action {
                    Action::Apply { object } if object.kind() == "Deployment" => Some(object),
                    _ => None,
                })
                .unwrap();
            let args: Vec<&str> = deployment.0["spec"]["template"]["spec"]["containers"][0]["args"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap())
                .collect();
            let placeholder = render::discovered_bootstrap(peer);
            assert_eq!(args, ["serve", "--site", lane.site.as_str(), "--profile", profile, "--peer-bootstrap", placeholder.as_str()]);
        }
    }
    // Site a's address given: site b's serve needs no discovery.
    let p = plan(&with_health(&[("mirror.sourceBootstrap", "kafka-a.example.com:443")]));
    let b = p.stages.last().unwrap().lanes.iter().find(|l| l.site == amqdr::settings::SiteId::B).unwrap();
    assert!(!b.steps.iter().any(|s| matches!(s.action, Action::DiscoverBootstrap { .. })));
}

#[test]
fn health_objects_are_well_formed() {
    use k8s_openapi::api::apps::v1::Deployment;
    use k8s_openapi::api::core::v1::{Service, ServiceAccount};
    use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
    let route_crd = render::parse_documents(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/testbed/kube/route-crd.yaml")).unwrap(),
        "route-crd.yaml",
    )
    .unwrap();
    for (listener, routes) in [("route", 2), ("loadbalancer", 0)] {
        let p = plan(&with_health(&[("kafka.listener.type", listener)]));
        let objects = health_objects(&p);
        let mut kinds = std::collections::BTreeMap::<&str, usize>::new();
        for o in &objects {
            *kinds.entry(o.kind()).or_default() += 1;
            match (o.api_version(), o.kind()) {
                ("v1", "ServiceAccount") => roundtrip::<ServiceAccount>(o),
                ("v1", "Service") => roundtrip::<Service>(o),
                ("apps/v1", "Deployment") => roundtrip::<Deployment>(o),
                ("rbac.authorization.k8s.io/v1", "Role") => roundtrip::<Role>(o),
                ("rbac.authorization.k8s.io/v1", "RoleBinding") => roundtrip::<RoleBinding>(o),
                ("route.openshift.io/v1", "Route") => {
                    let schema = crd_schema(&route_crd, o.api_version(), o.kind());
                    let validator = jsonschema::validator_for(&schema).unwrap();
                    let errors: Vec<String> = validator.iter_errors(&o.0).map(|e| format!("{e} at {}", e.instance_path())).collect();
                    assert!(errors.is_empty(), "{} violates the Route schema: {errors:#?}", o.describe());
                    let mut unknown = Vec::new();
                    unknown_fields(&o.0, &schema, "", &mut unknown);
                    assert!(unknown.is_empty(), "{}: {unknown:?}", o.describe());
                }
                (av, k) => panic!("unexpected health object {av} {k}"),
            }
            assert_eq!(o.0["metadata"]["labels"]["app.kubernetes.io/managed-by"], "amqdr", "{}", o.describe());
        }
        assert_eq!(kinds.get("Route").copied().unwrap_or(0), routes, "{kinds:?}");
        assert_eq!(kinds["Deployment"], 2);
    }
}
