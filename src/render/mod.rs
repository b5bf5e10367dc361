//! Rendering: embedded minijinja templates (strict undefined) and bundled Strimzi YAML into
//! Kubernetes objects ([`Manifest`]s), before any API call.

pub mod health;
pub mod mirror;

use crate::assets;
use crate::kube::object::{MANAGED_BY, MANAGED_BY_LABEL, Manifest, PROFILE_LABEL, SITE_LABEL};
use crate::material::Material;

use crate::profile::{ListenerType, MirrorKind, Profile};
use crate::settings::{Resources, Settings, SiteId, StorageKind};
use anyhow::{Context, Result, anyhow};
use base64::Engine;
use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;
use serde_json::{Map, Value, json};
use std::sync::OnceLock;

/// Placeholder for a value only known at run time (the source bootstrap address, discovered
/// from site a once its Kafka is ready). `install` substitutes it; dry-run output shows it.
pub const DISCOVERED_SOURCE_BOOTSTRAP: &str = "<discovered: site a external bootstrap>";

/// The placeholder of a site's external bootstrap, discovered at run time (site a's is
/// [`DISCOVERED_SOURCE_BOOTSTRAP`]).
pub fn discovered_bootstrap(site: SiteId) -> String {
    format!("<discovered: site {site} external bootstrap>")
}

/// Parse a multi-document YAML text into objects, skipping empty documents.
pub fn parse_documents(text: &str, origin: &str) -> Result<Vec<Manifest>> {
    let docs: Vec<Value> = serde_saphyr::from_multiple(text).with_context(|| format!("{origin} is not valid YAML"))?;
    docs.into_iter()
        .filter(|d| !d.is_null())
        .map(|d| {
            if d.get("kind").and_then(Value::as_str).is_none() || d.get("apiVersion").and_then(Value::as_str).is_none() {
                Err(anyhow!("{origin}: a document lacks kind or apiVersion"))
            } else {
                Ok(Manifest(d))
            }
        })
        .collect()
}

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        // Templates produce YAML; values that need quoting go through `tojson`.
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        env.set_loader(|name| Ok(assets::template(name).map(str::to_string)));
        env
    })
}

/// Render an embedded template with `ctx` into objects.
pub fn render_template(name: &str, ctx: &impl Serialize) -> Result<Vec<Manifest>> {
    let env = environment();
    let template = env.get_template(name).with_context(|| format!("loading template {name}"))?;
    let text =
        template.render(minijinja::Value::from(minijinja::value::Serde(ctx))).with_context(|| format!("rendering template {name}"))?;
    parse_documents(&text, &format!("template {name}"))
}

/// Strimzi's CRDs of the profile, in upstream order.
pub fn crds(profile: Profile) -> Result<Vec<Manifest>> {
    bundled(assets::crds(profile))
}

/// Strimzi's ClusterRoles of the profile, in upstream order.
pub fn cluster_roles(profile: Profile) -> Result<Vec<Manifest>> {
    bundled(assets::cluster_roles(profile))
}

fn bundled(files: Vec<assets::Asset>) -> Result<Vec<Manifest>> {
    let mut out = Vec::new();
    for f in files {
        let mut docs = parse_documents(f.text, &f.path)?;
        for d in &mut docs {
            d.set_label(MANAGED_BY_LABEL, MANAGED_BY);
        }
        out.extend(docs);
    }
    Ok(out)
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Client properties as a JSON object, numbers kept as numbers.
fn pairs_json(pairs: impl IntoIterator<Item = (String, String)>) -> Value {
    Value::Object(
        pairs
            .into_iter()
            .map(|(k, v)| {
                let value = v.parse::<i64>().map(Value::from).unwrap_or(Value::String(v));
                (k, value)
            })
            .collect(),
    )
}

/// A resources block without unset values.
fn resources_json(r: &Resources) -> Value {
    let mut out = Map::new();
    for (key, amounts) in [("requests", &r.requests), ("limits", &r.limits)] {
        let mut m = Map::new();
        if let Some(cpu) = &amounts.cpu {
            m.insert("cpu".into(), json!(cpu));
        }
        if let Some(mem) = &amounts.memory {
            m.insert("memory".into(), json!(mem));
        }
        if !m.is_empty() {
            out.insert(key.into(), Value::Object(m));
        }
    }
    Value::Object(out)
}

#[derive(Serialize)]
pub struct SiteContext {
    pub site: SiteCtx,
    pub profile: ProfileCtx,
    pub operator: OperatorCtx,
    pub kafka: KafkaCtx,
    pub topic: TopicCtx,
    /// The canary topic of `amqdr serve`: one partition per broker, replicated like `topic`.
    pub canary: TopicCtx,
    pub user: UserCtx,
    /// The site's Kafka identities (application, DR operations, mirror) with their ACLs.
    pub users: Vec<IdentityCtx>,
    pub secrets: SecretsCtx,
    pub mirror: MirrorCtx,
    pub health: HealthCtx,
}

/// `amqdr serve` deployed in the site (the `health` stage).
#[derive(Serialize)]
pub struct HealthCtx {
    pub name: String,
    pub image: String,
    pub port: u16,
    /// The container's command line after the binary (`serve --site ...`).
    pub args: Vec<String>,
    pub resources: Value,
    /// OpenShift: expose `/health` through a Route (the cluster runs Routes).
    pub route: bool,
    pub dr_state_configmap: String,
    pub ca_secret: String,
}

#[derive(Serialize)]
pub struct SiteCtx {
    pub id: String,
    pub role: String,
    pub operator_namespace: String,
    pub kafka_namespace: String,
    pub cluster_name: String,
}

#[derive(Serialize)]
pub struct ProfileCtx {
    pub name: String,
    pub api_version: String,
    pub strimzi_version: String,
    pub default_kafka_version: String,
    pub kafka_versions: Vec<String>,
}

#[derive(Serialize)]
pub struct OperatorCtx {
    pub service_account: String,
    pub image: String,
    /// `STRIMZI_*_IMAGE*` variables of the Deployment, in upstream order.
    pub image_env: Vec<EnvVarCtx>,
    /// `STRIMZI_OPERATOR_NAMESPACE_LABELS`: the labels that select only this site's operator
    /// namespace, so the NetworkPolicies the operator writes admit no other site's operator.
    pub namespace_labels: String,
    pub pull_secret_name: String,
    pub pull_secret_b64: Option<String>,
    pub resources: Value,
}

#[derive(Serialize)]
pub struct EnvVarCtx {
    pub name: String,
    pub value: String,
}

#[derive(Serialize)]
pub struct KafkaCtx {
    pub version: String,
    pub brokers: u32,
    pub zookeeper: u32,
    pub controllers: u32,
    pub listeners: Value,
    pub config: Value,
    /// Broker (and node pool) storage: JBOD with one volume, or ephemeral.
    pub broker_storage: Value,
    /// A single volume (ZooKeeper storage).
    pub volume: Value,
    pub resources: KafkaResourcesCtx,
    pub message_max_bytes: u64,
    pub retention_bytes: Option<u64>,
    /// `spec.kafka.authorization`: simple (ACLs), with super users only while an upgrade
    /// switches authorization on (see [`crate::plan`]).
    pub authorization: Value,
}

#[derive(Serialize)]
pub struct KafkaResourcesCtx {
    pub broker: Value,
    pub zookeeper: Value,
    pub controller: Value,
    pub entity_operator: Value,
}

#[derive(Serialize)]
pub struct TopicCtx {
    pub name: String,
    pub resource_name: String,
    pub partitions: u32,
    pub replicas: u32,
    pub min_insync_replicas: u32,
}

#[derive(Serialize)]
pub struct UserCtx {
    pub name: String,
    pub password_secret: String,
}

#[derive(Serialize)]
pub struct IdentityCtx {
    pub purpose: String,
    pub name: String,
    pub password_secret: String,
    pub password_b64: String,
    pub acls: Vec<Value>,
}

#[derive(Serialize)]
pub struct SecretsCtx {
    pub ca_cert_b64: String,
    pub ca_key_b64: String,
    /// The CA as a PKCS#12 trust store and its password, as Strimzi publishes its own CAs.
    pub ca_p12_b64: String,
    pub ca_p12_password_b64: String,
    pub password_b64: String,
}

#[derive(Serialize)]
pub struct MirrorCtx {
    pub name: String,
    /// The mirror's own Kafka user on both sides.
    pub user: String,
    pub replicas: u32,
    /// `running` or `stopped` for both MirrorMaker 2 connectors (MirrorMaker 1: replicas 0).
    pub connector_state: String,
    /// ConfigMap the source connector's offsets are altered from (Strimzi's alterOffsets).
    pub alter_offsets_configmap: Option<String>,
    /// MirrorMaker 2 `topicsExcludePattern`.
    pub topics_exclude: String,
    pub group_id: String,
    /// MirrorMaker 1 commits its consumer offsets this often (ms): how fresh DR's view of the
    /// mirror's position is (`status`, the failover drain).
    pub offset_commit_interval_ms: u64,
    pub include: String,
    pub groups_pattern: String,
    pub max_request_size: u64,
    pub tasks_max: u32,
    pub resources: Value,
    pub source: MirrorSideCtx,
    pub target: MirrorSideCtx,
    pub connect_config: Value,
    pub source_connector_config: Value,
    pub checkpoint_connector_config: Value,
    /// MirrorMaker 1 client settings; `group.id` is a field of its own in the resource.
    pub mm1_consumer_config: Value,
    pub mm1_producer_config: Value,
}

#[derive(Serialize)]
pub struct MirrorSideCtx {
    pub alias: String,
    pub bootstrap: String,
    pub secret_name: String,
    pub ca_cert_b64: String,
    pub password_b64: String,
}

/// A KafkaTopic's metadata.name must be RFC 1123; Kafka topic names allow more.
pub fn topic_resource_name(topic: &str) -> String {
    let lowered: String = topic.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    let trimmed = lowered.trim_matches('-');
    if trimmed == topic {
        topic.to_string()
    } else {
        // Keep names distinct when sanitising folds different topics together.
        let hash = topic.bytes().fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
        format!("{}-{:08x}", &trimmed[..trimmed.len().min(50)], hash)
    }
}

/// The label the API server itself sets on every namespace (immutable, cannot be copied onto
/// another namespace), as `STRIMZI_OPERATOR_NAMESPACE_LABELS` selects it.
pub fn operator_namespace_labels(operator_namespace: &str) -> String {
    format!("kubernetes.io/metadata.name={operator_namespace}")
}

/// Bootstrap of the DR cluster's internal TLS listener, as the mirror in site b reaches it.
pub fn internal_bootstrap(cluster: &str) -> String {
    format!("{cluster}-kafka-bootstrap:9093")
}

fn listeners(settings: &Settings) -> Value {
    let l = &settings.kafka.listener;
    let mut external = json!({
        "name": "external",
        "port": 9094,
        "type": l.kind.as_str(),
        "tls": true,
        "authentication": {"type": "scram-sha-512"},
    });
    let mut configuration = Map::new();
    if let Some(host) = &l.bootstrap_host {
        configuration.insert("bootstrap".into(), json!({"host": host}));
    }
    if l.kind == ListenerType::Tlsroute {
        if let Some(t) = &l.broker_host_template {
            configuration.insert("hostTemplate".into(), json!(t));
        }
        if let Some(g) = &l.gateway {
            let mut parent = Map::new();
            parent.insert("name".into(), json!(g.name));
            if let Some(ns) = &g.namespace {
                parent.insert("namespace".into(), json!(ns));
            }
            if let Some(sec) = &g.section_name {
                parent.insert("sectionName".into(), json!(sec));
            }
            configuration.insert("parentRefs".into(), json!([Value::Object(parent)]));
        }
    }
    if !configuration.is_empty() {
        external["configuration"] = Value::Object(configuration);
    }
    json!([
        {"name": "tls", "port": 9093, "type": "internal", "tls": true, "authentication": {"type": "scram-sha-512"}},
        external,
    ])
}

/// Broker configuration: replication defaults sized to the cluster, the seed's large-message
/// and retention notes, then the user's pass-through keys.
pub fn kafka_config(settings: &Settings) -> Map<String, Value> {
    let k = &settings.kafka;
    let rf = k.brokers.clamp(1, 3);
    let min_isr = settings.topic.min_insync_replicas.min(rf).max(1);
    let mut config = Map::new();
    config.insert("offsets.topic.replication.factor".into(), json!(rf));
    config.insert("transaction.state.log.replication.factor".into(), json!(rf));
    config.insert("transaction.state.log.min.isr".into(), json!(min_isr));
    config.insert("default.replication.factor".into(), json!(rf));
    config.insert("min.insync.replicas".into(), json!(min_isr));
    // MirrorMaker 1 (legacy) never creates topics: without broker auto-creation on its target a
    // new production topic makes its producer time out and, with abortOnSendFailure, the mirror
    // exits and crash-loops. Both sites allow it because failback runs a reverse MirrorMaker 1
    // with site a as target. MirrorMaker 2 creates its topics itself, so `current` keeps
    // auto-creation off and typos in client topic names fail instead of creating topics.
    let mm1_target = settings.profile == Profile::Legacy;
    config.insert("auto.create.topics.enable".into(), json!(mm1_target));
    if mm1_target {
        config.insert("num.partitions".into(), json!(settings.topic.partitions));
    }
    config.insert("message.max.bytes".into(), json!(k.message_max_bytes));
    config.insert("replica.fetch.max.bytes".into(), json!(k.message_max_bytes.max(1_048_576)));
    if let Some(r) = k.retention_bytes {
        config.insert("log.retention.bytes".into(), json!(r));
    }
    for (key, value) in &k.config {
        config.insert(key.clone(), value.clone());
    }
    config
}

fn volume(settings: &Settings) -> Value {
    let st = &settings.kafka.storage;
    match st.kind {
        StorageKind::Ephemeral => json!({"type": "ephemeral"}),
        StorageKind::PersistentClaim => {
            let mut v = json!({"type": "persistent-claim", "size": st.size, "deleteClaim": st.delete_claim});
            if let Some(class) = &st.class {
                v["class"] = json!(class);
            }
            v
        }
    }
}

fn broker_storage(settings: &Settings) -> Value {
    let mut vol = volume(settings);
    vol["id"] = json!(0);
    if settings.profile == Profile::Current {
        vol["kraftMetadata"] = json!("shared");
    }
    json!({"type": "jbod", "volumes": [vol]})
}

impl SiteContext {
    pub fn new(settings: &Settings, material: &Material, site: SiteId) -> Self {
        let st = settings.site(site);
        let profile = settings.profile;
        let password_b64 = b64(&material.password);
        let ca_cert_b64 = b64(&material.ca.cert_pem);
        SiteContext {
            site: SiteCtx {
                id: site.to_string(),
                role: site.role().into(),
                operator_namespace: st.operator_namespace.clone(),
                kafka_namespace: st.kafka_namespace.clone(),
                cluster_name: st.cluster_name.clone(),
            },
            profile: ProfileCtx {
                name: profile.to_string(),
                api_version: profile.api_version().into(),
                strimzi_version: profile.strimzi_version().into(),
                default_kafka_version: profile.default_kafka_version().into(),
                kafka_versions: profile.supported_kafka_versions().iter().map(|v| v.to_string()).collect(),
            },
            operator: OperatorCtx::new(settings, material, st),
            kafka: KafkaCtx::new(settings),
            topic: TopicCtx {
                name: settings.topic.name.clone(),
                resource_name: topic_resource_name(&settings.topic.name),
                partitions: settings.topic.partitions,
                replicas: settings.topic.replicas,
                min_insync_replicas: settings.topic.min_insync_replicas,
            },
            canary: TopicCtx {
                name: settings.canary_topic().into(),
                resource_name: topic_resource_name(settings.canary_topic()),
                partitions: settings.kafka.brokers,
                replicas: settings.topic.replicas,
                min_insync_replicas: settings.topic.min_insync_replicas,
            },
            user: UserCtx { name: settings.user.name.clone(), password_secret: crate::acl::user_password_secret(settings) },
            users: identities_ctx(settings, material, site, crate::acl::SiteRights::default()),
            secrets: SecretsCtx {
                ca_cert_b64: ca_cert_b64.clone(),
                ca_key_b64: b64(&material.ca.key_pem),
                ca_p12_b64: b64(&material.ca_truststore.p12),
                ca_p12_password_b64: b64(&material.ca_truststore.password),
                password_b64: password_b64.clone(),
            },
            mirror: MirrorCtx::new(settings, material),
            health: HealthCtx::new(settings, site),
        }
    }
}

impl OperatorCtx {
    fn new(settings: &Settings, material: &Material, st: &crate::settings::SiteSettings) -> Self {
        let images = settings.images();
        OperatorCtx {
            service_account: settings.operator.service_account.clone(),
            image: images.operator.clone(),
            image_env: images.env().into_iter().map(|(name, value)| EnvVarCtx { name: name.into(), value }).collect(),
            namespace_labels: operator_namespace_labels(&st.operator_namespace),
            pull_secret_name: "amqdr-pull-secret".into(),
            pull_secret_b64: material.pull_secret.as_ref().map(b64),
            resources: resources_json(&settings.operator.resources),
        }
    }
}

impl KafkaCtx {
    fn new(settings: &Settings) -> Self {
        KafkaCtx {
            version: settings.kafka_version().into(),
            brokers: settings.kafka.brokers,
            zookeeper: settings.zookeeper_replicas(),
            controllers: settings.controller_replicas(),
            listeners: listeners(settings),
            config: Value::Object(kafka_config(settings)),
            broker_storage: broker_storage(settings),
            volume: volume(settings),
            resources: KafkaResourcesCtx {
                broker: resources_json(&settings.kafka.resources.broker),
                zookeeper: resources_json(&settings.kafka.resources.zookeeper),
                controller: resources_json(&settings.kafka.resources.controller),
                entity_operator: resources_json(&settings.kafka.resources.entity_operator),
            },
            message_max_bytes: settings.kafka.message_max_bytes,
            retention_bytes: settings.kafka.retention_bytes,
            authorization: kafka_authorization(&[]),
        }
    }
}

impl MirrorCtx {
    fn new(settings: &Settings, material: &Material) -> Self {
        let b = settings.site(SiteId::B);
        let ca_cert_b64 = b64(&material.ca.cert_pem);
        let mirror_password_b64 = b64(&material.mirror_password);
        let mm2 = mirror::Mm2Config::from_settings(settings);
        MirrorCtx {
            name: settings.mirror.name.clone(),
            user: settings.mirror.name.clone(),
            replicas: settings.mirror.replicas,
            connector_state: "running".into(),
            alter_offsets_configmap: None,
            topics_exclude: mm2.topics_exclude.clone(),
            group_id: settings.mirror_group_id(),
            offset_commit_interval_ms: u64::from(settings.mirror.sync_interval_seconds) * 1000,
            include: match settings.mirror_kind() {
                MirrorKind::KafkaMirrorMaker => mirror::mm1_include(settings),
                MirrorKind::KafkaMirrorMaker2 => settings.mirror_include(),
            },
            groups_pattern: settings.mirror.groups_pattern.clone(),
            max_request_size: settings.mirror_max_request_size(),
            tasks_max: settings.topic.partitions.max(settings.mirror.replicas),
            resources: resources_json(&settings.mirror.resources),
            source: MirrorSideCtx {
                alias: crate::mirror::SOURCE_ALIAS.into(),
                bootstrap: settings.mirror.source_bootstrap.clone().unwrap_or_else(|| DISCOVERED_SOURCE_BOOTSTRAP.into()),
                secret_name: format!("{}-source", settings.mirror.name),
                ca_cert_b64: ca_cert_b64.clone(),
                password_b64: mirror_password_b64.clone(),
            },
            target: MirrorSideCtx {
                alias: crate::mirror::TARGET_ALIAS.into(),
                bootstrap: internal_bootstrap(&b.cluster_name),
                secret_name: format!("{}-target", settings.mirror.name),
                ca_cert_b64,
                password_b64: mirror_password_b64,
            },
            connect_config: mm2.connect_json(),
            source_connector_config: mm2.source_connector_json(),
            checkpoint_connector_config: mm2.checkpoint_connector_json(),
            mm1_consumer_config: pairs_json(mirror::mm1_consumer_config(settings).into_iter().filter(|(k, _)| k != "group.id")),
            mm1_producer_config: pairs_json(mirror::mm1_producer_config(settings)),
        }
    }
}

impl HealthCtx {
    fn new(settings: &Settings, site: SiteId) -> Self {
        let st = settings.site(site);
        HealthCtx {
            name: health::HEALTH_NAME.into(),
            image: settings.health.image.clone().unwrap_or_default(),
            port: settings.health.port,
            args: health::deployment_args(settings, site),
            resources: resources_json(&settings.health.resources),
            route: settings.kafka.listener.kind == ListenerType::Route,
            dr_state_configmap: crate::record::STATE_CONFIGMAP.into(),
            ca_secret: format!("{}-cluster-ca-cert", st.cluster_name),
        }
    }
}

/// `spec.kafka.authorization` of both Kafkas. `super_users` only while an upgrade turns
/// authorization on (users keep working until their ACLs exist), never otherwise.
pub fn kafka_authorization(super_users: &[String]) -> Value {
    let mut a = json!({"type": "simple"});
    if !super_users.is_empty() {
        a["superUsers"] = json!(super_users);
    }
    a
}

fn identities_ctx(settings: &Settings, material: &Material, site: SiteId, rights: crate::acl::SiteRights) -> Vec<IdentityCtx> {
    crate::acl::identities(settings, site, rights)
        .into_iter()
        .map(|i| {
            let password = match i.purpose {
                "mirror" => &material.mirror_password,
                "dr-operations" => &material.dr_password,
                _ => &material.password,
            };
            IdentityCtx {
                purpose: i.purpose.into(),
                name: i.name,
                password_secret: i.password_secret,
                password_b64: b64(password),
                acls: i.acls,
            }
        })
        .collect()
}

/// A site's KafkaUsers and their password Secrets, with the rights `rights` gives them (which
/// way the mirror copies, whether the site is fenced).
pub fn user_objects(settings: &Settings, material: &Material, site: SiteId, rights: crate::acl::SiteRights) -> Result<Vec<Manifest>> {
    let mut ctx = SiteContext::new(settings, material, site);
    ctx.users = identities_ctx(settings, material, site, rights);
    site_template("user", &ctx, settings, site)
}

/// One direction of mirroring, and whether it copies. The mirror always runs in its target
/// site (as the seed's MirrorMaker runs in DR) and is named `mirror.name` there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MirrorFlow {
    pub source: SiteId,
    pub target: SiteId,
    /// Connectors `running` (MirrorMaker 1: its replicas) or `stopped` (replicas 0).
    pub running: bool,
    /// Strimzi alters the source connector's offsets from this ConfigMap when asked.
    pub alter_offsets_from: Option<String>,
}

impl MirrorFlow {
    /// Production to DR, the flow `install` deploys.
    pub fn forward(running: bool) -> MirrorFlow {
        MirrorFlow { source: SiteId::A, target: SiteId::B, running, alter_offsets_from: None }
    }

    /// DR back to production, the flow `failback sync` deploys in site a.
    pub fn reverse(running: bool, alter_offsets_from: Option<String>) -> MirrorFlow {
        MirrorFlow { source: SiteId::B, target: SiteId::A, running, alter_offsets_from }
    }
}

impl SiteContext {
    /// The context of a mirror's objects: the target site's, with the mirror's two sides set
    /// for `flow` (the source's address is discovered at run time unless given).
    pub fn for_mirror(settings: &Settings, material: &Material, flow: &MirrorFlow) -> SiteContext {
        let mut ctx = SiteContext::new(settings, material, flow.target);
        let m = &mut ctx.mirror;
        if flow.source != SiteId::A {
            m.source.bootstrap = DISCOVERED_SOURCE_BOOTSTRAP.into();
        }
        m.target.bootstrap = internal_bootstrap(&settings.site(flow.target).cluster_name);
        m.connector_state = if flow.running { "running" } else { "stopped" }.into();
        // MirrorMaker 1 has no connector state: it stops by scaling to zero. MirrorMaker 2 keeps
        // its Connect workers, which serve the connectors' state and offsets.
        if !flow.running && settings.mirror_kind() == crate::profile::MirrorKind::KafkaMirrorMaker {
            m.replicas = 0;
        }
        m.alter_offsets_configmap = flow.alter_offsets_from.clone();
        ctx
    }
}

/// The mirror's objects for `flow`: the Secrets with each side's CA and password, then the
/// KafkaMirrorMaker(2), labelled as objects of the target site.
pub fn mirror_objects(settings: &Settings, material: &Material, flow: &MirrorFlow) -> Result<(Vec<Manifest>, Vec<Manifest>)> {
    let ctx = SiteContext::for_mirror(settings, material, flow);
    let secrets = site_template("mirror-secrets", &ctx, settings, flow.target)?;
    let mirror = site_template("mirror", &ctx, settings, flow.target)?;
    Ok((secrets, mirror))
}

/// Stamp amqdr's ownership labels on a site's object.
pub fn stamp_site(objects: &mut [Manifest], settings: &Settings, site: SiteId) {
    for o in objects {
        o.set_label(MANAGED_BY_LABEL, MANAGED_BY);
        o.set_label(SITE_LABEL, site.as_str());
        o.set_label(PROFILE_LABEL, settings.profile.as_str());
    }
}

/// Render one of a site's templates, picking the profile's variant when there is one.
pub fn site_template(name: &str, ctx: &SiteContext, settings: &Settings, site: SiteId) -> Result<Vec<Manifest>> {
    let profile_specific = format!("{}/{name}.yaml.j2", settings.profile.as_str());
    let path = if assets::template(&profile_specific).is_some() { profile_specific } else { format!("common/{name}.yaml.j2") };
    let mut objects = render_template(&path, ctx)?;
    stamp_site(&mut objects, settings, site);
    Ok(objects)
}

/// Multi-document YAML of objects, redacted unless `show_secrets`.
pub fn to_yaml_documents<'a>(objects: impl IntoIterator<Item = &'a Manifest>, show_secrets: bool) -> Result<String> {
    let mut out = String::new();
    for o in objects {
        let shown = if show_secrets { o.clone() } else { o.redacted() };
        out.push_str("---\n");
        out.push_str(&serde_saphyr::to_string(&shown.0).context("serializing YAML")?);
        if !out.ends_with('\n') {
            out.push('\n');
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_names_become_valid_resource_names() {
        assert_eq!(topic_resource_name("my-topic"), "my-topic");
        let n = topic_resource_name("Orders_EU.v1");
        assert!(n.starts_with("orders-eu-v1-"), "{n}");
        assert_ne!(topic_resource_name("a_b"), topic_resource_name("a.b"));
    }

    #[test]
    fn substitute_replaces_placeholders_everywhere() {
        let mut m = Manifest(json!({"a": [DISCOVERED_SOURCE_BOOTSTRAP, {"b": DISCOVERED_SOURCE_BOOTSTRAP}], "c": "keep"}));
        assert!(m.substitute(DISCOVERED_SOURCE_BOOTSTRAP, "host:443"));
        assert!(!m.contains_string(DISCOVERED_SOURCE_BOOTSTRAP));
        assert_eq!(m.0["a"][1]["b"], "host:443");
    }

    #[test]
    fn only_mirrormaker_1_sites_create_topics_on_first_use() {
        let mut settings = Settings::default();
        let current = kafka_config(&settings);
        assert_eq!(current["auto.create.topics.enable"], json!(false));
        assert!(!current.contains_key("num.partitions"));
        settings.profile = Profile::Legacy;
        settings.topic.partitions = 6;
        let legacy = kafka_config(&settings);
        assert_eq!(legacy["auto.create.topics.enable"], json!(true));
        assert_eq!(legacy["num.partitions"], json!(6));
        assert_eq!(legacy["default.replication.factor"], current["default.replication.factor"]);
    }

    #[test]
    fn bundled_assets_parse() {
        for p in [Profile::Legacy, Profile::Current] {
            let crds = crds(p).unwrap();
            assert!(crds.len() >= 10);
            assert!(crds.iter().all(|c| c.kind() == "CustomResourceDefinition"));
            let roles = cluster_roles(p).unwrap();
            assert_eq!(roles.len(), 7);
        }
    }
}
