//! What amqdr reads from clusters before planning: reachability and rights (preflight), and the
//! secret material already there (so re-runs reuse the CA and passwords). Also the source
//! bootstrap address of a site's Kafka.

use super::client::{Cluster, Clusters};
use crate::acl::user_password_secret;
use crate::certs::CertificateAuthority;
use crate::error::UsageError;
use crate::material::Existing;
use crate::profile::ListenerType;
use crate::settings::{Settings, SiteId};
use crate::strimzi_rules;
use crate::truststore::CaTrustStore;
use anyhow::{Context, Result, anyhow, bail};
use k8s_openapi::api::authorization::v1::{ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec};
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, PostParams};
use serde_json::Value;

/// The API server answers, and the user may create what `install` creates cluster-wide.
pub async fn preflight(cluster: &Cluster, checks: &[(&str, &str, &str)]) -> Result<()> {
    cluster.client.apiserver_version().await.map_err(|e| {
        anyhow!("cannot reach the Kubernetes API server of {}: {e}", cluster.context)
            .context("check the cluster address and your network, and that you are logged in")
    })?;
    let api: Api<SelfSubjectAccessReview> = Api::all(cluster.client.clone());
    let mut denied = Vec::new();
    for (verb, group, resource) in checks {
        let review = SelfSubjectAccessReview {
            spec: SelfSubjectAccessReviewSpec {
                resource_attributes: Some(ResourceAttributes {
                    verb: Some((*verb).into()),
                    group: Some((*group).into()),
                    resource: Some((*resource).into()),
                    ..Default::default()
                }),
                ..Default::default()
            },
            ..Default::default()
        };
        let answer = api
            .create(&PostParams::default(), &review)
            .await
            .with_context(|| format!("asking {} whether you may {verb} {resource}", cluster.context))?;
        if !answer.status.map(|s| s.allowed).unwrap_or(false) {
            let full = if group.is_empty() { resource.to_string() } else { format!("{resource}.{group}") };
            denied.push(format!("{verb} {full}"));
        }
    }
    if !denied.is_empty() {
        bail!(
            "your identity on {} may not {}\n  fix: run amqdr as a cluster administrator (as the seed's step 2 says: CRDs and ClusterRoles need cluster-admin)",
            cluster.context,
            denied.join(", ")
        );
    }
    Ok(())
}

/// Whether the cluster serves a kind (its CRD is installed and established).
pub async fn served(cluster: &Cluster, group: &str, version: &str, kind: &str) -> Result<bool> {
    let gvk = kube::api::GroupVersionKind::gvk(group, version, kind);
    match kube::discovery::pinned_kind(&cluster.client, &gvk).await {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(false),
        Err(kube::Error::Discovery(_)) => Ok(false),
        Err(e) => Err(anyhow::Error::new(e).context(format!("looking up {kind} ({group}/{version}) on {}", cluster.context))),
    }
}

/// The API the external listener needs (OpenShift Route, Gateway API TLSRoute) is served by the
/// cluster: without it the operator leaves the Kafka NotReady and `install` would wait out its
/// whole timeout, so this is checked before anything is applied.
pub async fn listener_api_served(cluster: &Cluster, settings: &Settings) -> Result<()> {
    let listener = settings.kafka.listener.kind;
    let Some(api) = strimzi_rules::required_api(listener) else { return Ok(()) };
    if served(cluster, api.group, api.version, api.kind).await? {
        return Ok(());
    }
    let fix = match listener {
        ListenerType::Route => {
            "this is not OpenShift: use --listener loadbalancer (or nodeport), or --listener tlsroute where the Gateway API is installed"
        }
        _ => {
            "install the Gateway API's TLSRoute (experimental channel, v1) and a Gateway that passes TLS through, or use --listener loadbalancer (or nodeport)"
        }
    };
    let mut e = UsageError::new(format!(
        "kafka.listener.type: a {listener} listener needs {} ({}/{}), which {} does not serve; the operator would leave the Kafka NotReady (\"{}\"). Nothing was applied",
        api.kind, api.group, api.version, cluster.context, api.operator_error
    ))
    .with_hint(fix);
    e.field = Some("kafka.listener.type".into());
    Err(e.into())
}

/// Rights `install` needs cluster-wide.
pub const INSTALL_RIGHTS: &[(&str, &str, &str)] = &[
    ("create", "apiextensions.k8s.io", "customresourcedefinitions"),
    ("create", "rbac.authorization.k8s.io", "clusterroles"),
    ("create", "rbac.authorization.k8s.io", "clusterrolebindings"),
    ("create", "", "namespaces"),
];

pub fn secret_value(secret: &Secret, key: &str) -> Option<String> {
    secret.data.as_ref()?.get(key).map(|b| String::from_utf8_lossy(&b.0).into_owned())
}

pub async fn read_secret(cluster: &Cluster, namespace: &str, name: &str) -> Result<Option<Secret>> {
    let api: Api<Secret> = Api::namespaced(cluster.client.clone(), namespace);
    api.get_opt(name).await.with_context(|| format!("reading Secret {name} in {namespace} ({})", cluster.context))
}

/// One key of a Secret as text; `None` when the Secret or the key is not there.
pub async fn read_secret_value(cluster: &Cluster, namespace: &str, name: &str, key: &str) -> Result<Option<String>> {
    Ok(read_secret(cluster, namespace, name).await?.and_then(|s| secret_value(&s, key)))
}

/// `ca.p12` with its `ca.password` from a CA certificate Secret, when both are there.
fn ca_truststore(secret: &Secret) -> Option<CaTrustStore> {
    let data = secret.data.as_ref()?;
    let p12 = data.get("ca.p12")?.0.clone();
    let password = String::from_utf8(data.get("ca.password")?.0.clone()).ok()?;
    Some(CaTrustStore { p12, password })
}

/// The CA (with its trust stores) and password already installed, if any. Both sites must agree.
pub async fn existing_material(clusters: &Clusters, settings: &Settings) -> Result<Existing> {
    let pairs: Vec<(SiteId, Cluster)> = SiteId::ALL.iter().map(|s| (*s, clusters.site(*s).clone())).collect();
    existing_material_from(&pairs, settings).await
}

/// [`existing_material`] from the sites given (DR operations read only the reachable ones).
pub async fn existing_material_from(sites: &[(SiteId, Cluster)], settings: &Settings) -> Result<Existing> {
    let mut cas: Vec<(SiteId, CertificateAuthority, String)> = Vec::new();
    let mut ca_truststores = Vec::new();
    for (site, cluster) in sites {
        let (site, cluster) = (*site, cluster);
        let st = settings.site(site);
        let ns = &st.kafka_namespace;
        let cert_name = format!("{}-cluster-ca-cert", st.cluster_name);
        let key_name = format!("{}-cluster-ca", st.cluster_name);
        let cert = read_secret(cluster, ns, &cert_name).await?;
        let key = read_secret(cluster, ns, &key_name).await?;
        ca_truststores.extend(cert.as_ref().and_then(ca_truststore));
        if let (Some(cert), Some(key)) = (cert, key)
            && let (Some(c), Some(k)) = (secret_value(&cert, "ca.crt"), secret_value(&key, "ca.key"))
        {
            let ca = CertificateAuthority::from_pem(&c, &k)
                .with_context(|| format!("the cluster CA in Secrets {cert_name}/{key_name} in {ns} (site {site}) is unusable"))?;
            cas.push((site, ca, format!("{ns}/{cert_name} (site {site})")));
        }
    }
    if let [(_, a, from_a), (_, b, from_b)] = cas.as_slice()
        && a.cert_pem.trim() != b.cert_pem.trim()
    {
        bail!(
            "the sites hold different cluster CAs ({from_a} and {from_b}); amqdr shares one CA between production and DR\n  fix: make both Secrets hold the same CA, or delete one site's CA Secrets so amqdr copies the other"
        );
    }
    let password = shared_password(sites, settings, &user_password_secret(settings), "the user").await?;
    let mirror_password = shared_password(sites, settings, &crate::acl::mirror_password_secret(settings), "the mirror's user").await?;
    let dr_password = shared_password(sites, settings, &crate::acl::dr_password_secret(settings), "the DR operations user").await?;
    Ok(Existing {
        ca: cas.into_iter().next().map(|(_, ca, from)| (ca, from)),
        ca_truststores,
        password: if settings.user.password_file.is_some() { None } else { password },
        mirror_password,
        dr_password,
    })
}

/// Sites whose Kafka exists but has no `spec.kafka.authorization` (installed before amqdr
/// enforced ACLs, or by hand).
pub async fn kafkas_without_authorization(clusters: &Clusters, settings: &Settings) -> Result<Vec<SiteId>> {
    let mut open = Vec::new();
    for site in SiteId::ALL {
        let st = settings.site(site);
        let (group, version) = settings.profile.api_version().split_once('/').unwrap_or_default();
        if !served(clusters.site(site), group, version, "Kafka").await? {
            continue; // a first install: the CRDs come with it
        }
        let kafka =
            super::apply::get(clusters.site(site), settings.profile.api_version(), "Kafka", Some(&st.kafka_namespace), &st.cluster_name)
                .await
                .with_context(|| format!("reading Kafka {}/{} of site {site}", st.kafka_namespace, st.cluster_name))?;
        if kafka.is_some_and(|k| k.pointer("/spec/kafka/authorization").is_none_or(serde_json::Value::is_null)) {
            open.push(site);
        }
    }
    Ok(open)
}

/// A password Secret (`password` key) both sites hold: the same in each, or an error.
async fn shared_password(sites: &[(SiteId, Cluster)], settings: &Settings, name: &str, whose: &str) -> Result<Option<(String, String)>> {
    let mut found: Vec<(String, String)> = Vec::new();
    for (site, cluster) in sites {
        let ns = &settings.site(*site).kafka_namespace;
        if let Some(secret) = read_secret(cluster, ns, name).await?
            && let Some(p) = secret_value(&secret, "password").filter(|p| !p.is_empty())
        {
            found.push((p, format!("{ns}/{name} (site {site})")));
        }
    }
    if let [(a, from_a), (b, from_b)] = found.as_slice()
        && a != b
    {
        bail!(
            "the sites hold different passwords for {whose} ({from_a} and {from_b})\n  fix: make them equal (or delete one site's Secret so amqdr copies the other)"
        );
    }
    Ok(found.into_iter().next())
}

/// The external listener's bootstrap address from a Kafka's status (`status.listeners`).
pub fn bootstrap_from_status(kafka: &Value) -> Option<String> {
    let listeners = kafka.pointer("/status/listeners")?.as_array()?;
    let external = listeners
        .iter()
        .find(|l| l.get("name").and_then(Value::as_str) == Some("external") || l.get("type").and_then(Value::as_str) == Some("external"))?;
    if let Some(b) = external.get("bootstrapServers").and_then(Value::as_str).filter(|b| !b.is_empty()) {
        return Some(b.to_string());
    }
    let addr = external.get("addresses")?.as_array()?.first()?;
    Some(format!("{}:{}", addr.get("host")?.as_str()?, addr.get("port")?.as_u64()?))
}

/// `host:443` of an OpenShift Route's first admitted ingress.
pub fn bootstrap_from_route(route: &Value) -> Option<String> {
    let host =
        route.pointer("/status/ingress/0/host").and_then(Value::as_str).or_else(|| route.pointer("/spec/host").and_then(Value::as_str))?;
    (!host.is_empty()).then(|| format!("{host}:443"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bootstrap_from_kafka_status() {
        let k = json!({"status": {"listeners": [
            {"name": "tls", "bootstrapServers": "my-cluster-kafka-bootstrap.datacenter-a.svc:9093"},
            {"name": "external", "bootstrapServers": "my-cluster-kafka-bootstrap-datacenter-a.apps.example.com:443",
             "addresses": [{"host": "my-cluster-kafka-bootstrap-datacenter-a.apps.example.com", "port": 443}]}
        ]}});
        assert_eq!(bootstrap_from_status(&k).as_deref(), Some("my-cluster-kafka-bootstrap-datacenter-a.apps.example.com:443"));
        let only_addresses = json!({"status": {"listeners": [{"name": "external", "addresses": [{"host": "10.0.0.5", "port": 31092}]}]}});
        assert_eq!(bootstrap_from_status(&only_addresses).as_deref(), Some("10.0.0.5:31092"));
        assert_eq!(bootstrap_from_status(&json!({"status": {}})), None);
    }

    #[test]
    fn bootstrap_from_openshift_route() {
        let r = json!({"spec": {"host": ""}, "status": {"ingress": [{"host": "kafka.apps.example.com", "routerName": "default"}]}});
        assert_eq!(bootstrap_from_route(&r).as_deref(), Some("kafka.apps.example.com:443"));
        assert_eq!(bootstrap_from_route(&json!({"status": {}})), None);
    }
}
