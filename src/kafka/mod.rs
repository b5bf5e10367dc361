//! Everything that talks to Kafka brokers, for `verify`, `dr` and `serve` alike: the connection
//! (SASL_SSL/SCRAM with the cluster CA, TLS verified) and where its parts come from, producers
//! and consumers, the admin and metadata calls DR operations make, and the mirror's lag.
//!
//! librdkafka calls block: async callers run them through [`blocking`].

pub mod clients;
pub mod connection;
pub mod lag;
pub mod site;

use crate::error::UsageError;
use crate::settings::{Settings, SiteId};
use anyhow::{Context, Result};
use connection::{ConnectionInputs, ConnectionSettings};
use std::time::Duration;

/// Run blocking librdkafka calls off the async runtime.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f).await.context("Kafka client thread panicked")?
}

/// The site's external bootstrap from its Kafka's status (or Route), the CA from
/// `<cluster>-cluster-ca-cert`, the password from amqdr's user password Secret.
pub async fn from_cluster(
    settings: &Settings,
    site: SiteId,
    inputs: &ConnectionInputs,
    timeout: Duration,
    cluster: &crate::kube::client::Cluster,
    purpose: crate::acl::Purpose,
) -> Result<ConnectionSettings> {
    use crate::kube::{apply, cluster_state};
    let st = settings.site(site);
    let cluster = cluster.clone();
    let ns = st.kafka_namespace.as_str();
    let kafka = apply::get(&cluster, settings.profile.api_version(), "Kafka", Some(ns), &st.cluster_name).await?.ok_or_else(|| {
        UsageError::new(format!("Kafka {ns}/{} not found on {}", st.cluster_name, cluster.context))
            .with_hint("run `amqdr install` first, or name the sites' namespaces/clusters in the settings, or pass --bootstrap")
    })?;
    let bootstrap = match cluster_state::bootstrap_from_status(&kafka) {
        Some(b) => b,
        None => apply::get(&cluster, "route.openshift.io/v1", "Route", Some(ns), &format!("{}-kafka-bootstrap", st.cluster_name))
            .await
            .ok()
            .flatten()
            .and_then(|r| cluster_state::bootstrap_from_route(&r))
            .ok_or_else(|| UsageError::new(format!("Kafka {ns}/{} reports no external listener address yet", st.cluster_name)))?,
    };
    let secret = |name: String, key: &'static str| {
        let cluster = cluster.clone();
        async move {
            cluster_state::read_secret_value(&cluster, ns, &name, key)
                .await?
                .ok_or_else(|| anyhow::anyhow!("Secret {ns}/{name} with key {key} not found"))
        }
    };
    let ca_pem = match &inputs.ca_file {
        Some(_) => None,
        None => Some(secret(format!("{}-cluster-ca-cert", st.cluster_name), "ca.crt").await?),
    };
    let (password, password_source) = match &inputs.password_file {
        Some(f) => connection::password_from_file(f)?,
        None => {
            let name = purpose.password_secret(settings);
            (secret(name.clone(), "password").await?, format!("Secret {ns}/{name} on {}", cluster.context))
        }
    };
    Ok(ConnectionSettings {
        label: site.as_str().into(),
        bootstrap,
        ca_file: inputs.ca_file.clone(),
        ca_pem,
        ca_origin: None,
        user: inputs.user.clone().unwrap_or_else(|| purpose.user(settings)),
        password,
        password_source,
        timeout,
    })
}
