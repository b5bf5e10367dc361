//! Reaching the two sites for a DR operation, where either may be down: each site's kube API
//! (one client per context, as everywhere) and its Kafka cluster (the connection `verify` uses:
//! bootstrap from the Kafka status, CA and password from the site's Secrets, or explicit flags).
//! A site whose own cluster is gone can still be reached as a Kafka cluster through what the
//! other site knows of it: the mirror's source address, the shared CA and the password.
//! DR operations act as their own Kafka user (`dr.user`, see `acl::operations`).

use super::state::{Roles, STATE_CONFIGMAP, SiteRecord, SiteState};
use crate::acl::Purpose;
use crate::kube::apply;
use crate::kube::client::{Cluster, ClusterCache};
use crate::settings::{Settings, SiteId};
use crate::verify::connection::{ConnectionInputs, ConnectionSettings};
use anyhow::{Context, Result, anyhow};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ObjectMeta, Patch, PatchParams};
use std::collections::BTreeMap;
use std::time::Duration;

/// How long a site's kube API may take to answer before it counts as unreachable.
const KUBE_PROBE: Duration = Duration::from_secs(10);

/// One site as a DR operation sees it.
#[derive(Clone)]
pub struct Site {
    pub id: SiteId,
    /// The site's cluster, when its API server answered.
    pub kube: Result<Cluster, String>,
    /// How to reach the site's Kafka (not whether it answers: see [`super::kafka::KafkaSite::connect`]).
    pub kafka: Result<ConnectionSettings, String>,
}

impl Site {
    pub fn cluster(&self) -> Result<&Cluster> {
        self.kube.as_ref().map_err(|why| anyhow!("site {}'s Kubernetes API is unreachable: {why}", self.id))
    }

    pub fn kafka(&self) -> Result<&ConnectionSettings> {
        self.kafka.as_ref().map_err(|why| anyhow!("no Kafka connection for site {}: {why}", self.id))
    }
}

/// Explicit connection inputs per site (flags, environment), as `verify` takes them.
#[derive(Debug, Clone, Default)]
pub struct SiteInputs {
    pub a: ConnectionInputs,
    pub b: ConnectionInputs,
}

impl SiteInputs {
    pub fn get(&self, site: SiteId) -> &ConnectionInputs {
        match site {
            SiteId::A => &self.a,
            SiteId::B => &self.b,
        }
    }
}

pub struct Sites {
    pub a: Site,
    pub b: Site,
    pub settings: Settings,
    pub timeout: Duration,
}

impl Sites {
    pub fn get(&self, site: SiteId) -> &Site {
        match site {
            SiteId::A => &self.a,
            SiteId::B => &self.b,
        }
    }

    /// Reach both sites concurrently; nothing here fails because a site is down.
    pub async fn discover(settings: &Settings, inputs: &SiteInputs, timeout: Duration) -> Sites {
        let cache = ClusterCache::default();
        let (ka, kb) = tokio::join!(reach_kube(&cache, settings, SiteId::A), reach_kube(&cache, settings, SiteId::B));
        let (ca, cb) = tokio::join!(
            kafka_connection(settings, inputs, SiteId::A, &ka, &kb, timeout),
            kafka_connection(settings, inputs, SiteId::B, &kb, &ka, timeout),
        );
        Sites {
            a: Site { id: SiteId::A, kube: ka, kafka: ca },
            b: Site { id: SiteId::B, kube: kb, kafka: cb },
            settings: settings.clone(),
            timeout,
        }
    }

    /// Both sites' DR records.
    pub async fn roles(&self) -> Roles {
        let (a, b) = tokio::join!(read_record(&self.a, &self.settings), read_record(&self.b, &self.settings));
        Roles { a, b }
    }
}

pub(crate) async fn reach_kube(cache: &ClusterCache, settings: &Settings, site: SiteId) -> Result<Cluster, String> {
    let cluster = cache.get(settings.site(site).context.as_deref()).await.map_err(|e| crate::error::report(&e))?;
    match tokio::time::timeout(KUBE_PROBE, cluster.client.apiserver_version()).await {
        Ok(Ok(_)) => Ok(cluster),
        Ok(Err(e)) => Err(format!("{} does not answer: {e}", cluster.context)),
        Err(_) => Err(format!("{} did not answer within {}s", cluster.context, KUBE_PROBE.as_secs())),
    }
}

/// The site's Kafka connection: explicit inputs, else the site's own cluster, else what the
/// other site's cluster knows of it (its mirror's source address for this site, the shared CA and
/// the user's password in the other site's Secrets).
async fn kafka_connection(
    settings: &Settings,
    inputs: &SiteInputs,
    site: SiteId,
    own: &Result<Cluster, String>,
    other: &Result<Cluster, String>,
    timeout: Duration,
) -> Result<ConnectionSettings, String> {
    let mut explicit = inputs.get(site).clone();
    explicit.user = explicit.user.or_else(|| Some(settings.dr.user.clone()));
    let explicit = &explicit;
    match explicit.resolve(site.as_str(), timeout) {
        Ok(Some(c)) => return Ok(c),
        Ok(None) => {}
        Err(e) => return Err(crate::error::report(&e)),
    }
    let mut why = Vec::new();
    if let Ok(own_cluster) = own {
        match crate::verify::from_cluster(settings, site, explicit, timeout, own_cluster, Purpose::DrOperations).await {
            Ok(c) => return Ok(c),
            Err(e) => why.push(crate::error::report(&e)),
        }
    } else if let Err(e) = own {
        why.push(e.clone());
    }
    if let Ok(other_cluster) = other {
        match via_other_site(settings, site, explicit, other_cluster, timeout).await {
            Ok(c) => return Ok(c),
            Err(e) => why.push(format!("through the other site: {}", crate::error::report(&e))),
        }
    }
    Err(why.join("; "))
}

async fn via_other_site(
    settings: &Settings,
    site: SiteId,
    explicit: &ConnectionInputs,
    other_cluster: &Cluster,
    timeout: Duration,
) -> Result<ConnectionSettings> {
    let other = site.other();
    let ns = settings.site(other).kafka_namespace.clone();
    // The mirror running in the other site copies from this one and names its address.
    let kind = settings.mirror_kind().as_str();
    let mirror = apply::get(other_cluster, settings.profile.api_version(), kind, Some(&ns), &settings.mirror.name)
        .await?
        .ok_or_else(|| anyhow!("no {kind} {ns}/{} in site {other}", settings.mirror.name))?;
    let bootstrap = ["/spec/mirrors/0/source/bootstrapServers", "/spec/consumer/bootstrapServers"]
        .iter()
        .find_map(|p| mirror.pointer(p).and_then(|v| v.as_str()))
        .ok_or_else(|| anyhow!("{kind} {ns}/{} names no source address", settings.mirror.name))?
        .to_string();
    let mut c = crate::verify::from_cluster(settings, other, explicit, timeout, other_cluster, Purpose::DrOperations).await?;
    c.label = site.as_str().into();
    c.bootstrap = bootstrap;
    Ok(c)
}

pub async fn read_record(site: &Site, settings: &Settings) -> SiteRecord {
    let cluster = match &site.kube {
        Ok(c) => c,
        Err(why) => return SiteRecord::Unreachable { reason: why.clone() },
    };
    let ns = &settings.site(site.id).kafka_namespace;
    let api: Api<ConfigMap> = Api::namespaced(cluster.client.clone(), ns);
    match api.get_opt(STATE_CONFIGMAP).await {
        Err(e) => SiteRecord::Unreachable { reason: format!("reading ConfigMap {ns}/{STATE_CONFIGMAP}: {e}") },
        Ok(None) => SiteRecord::Missing,
        Ok(Some(cm)) => match SiteState::from_data(&cm.data.unwrap_or_default()) {
            Ok(state) => SiteRecord::Present { state: Box::new(state), resource_version: cm.metadata.resource_version },
            Err(e) => SiteRecord::Invalid { reason: format!("{e:#}") },
        },
    }
}

/// The DR state ConfigMap of a site, as applied.
pub fn state_configmap(settings: &Settings, site: SiteId, state: &SiteState) -> ConfigMap {
    let labels = BTreeMap::from([
        (crate::render::MANAGED_BY_LABEL.to_string(), crate::render::MANAGED_BY.to_string()),
        (crate::render::SITE_LABEL.to_string(), site.as_str().to_string()),
        (crate::render::PROFILE_LABEL.to_string(), settings.profile.as_str().to_string()),
    ]);
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(STATE_CONFIGMAP.into()),
            namespace: Some(settings.site(site).kafka_namespace.clone()),
            labels: Some(labels),
            ..Default::default()
        },
        data: Some(state.to_data()),
        ..Default::default()
    }
}

/// Write a site's record. `expected` is the resourceVersion read before: the write fails if
/// another amqdr changed the record meanwhile (so epochs never go backwards under a race).
pub async fn write_record(site: &Site, settings: &Settings, state: &SiteState, expected: Option<&str>) -> Result<()> {
    let cluster = site.cluster()?;
    let mut cm = state_configmap(settings, site.id, state);
    cm.metadata.resource_version = expected.map(str::to_string);
    let ns = settings.site(site.id).kafka_namespace.clone();
    let api: Api<ConfigMap> = Api::namespaced(cluster.client.clone(), &ns);
    let pp = PatchParams::apply(apply::FIELD_MANAGER).force();
    api.patch(STATE_CONFIGMAP, &pp, &Patch::Apply(&cm)).await.map_err(|e| match e {
        kube::Error::Api(s) if s.is_conflict() => anyhow!(
            "ConfigMap {ns}/{STATE_CONFIGMAP} changed while this operation ran (another amqdr?)\n  fix: check `amqdr status`, then re-run"
        ),
        other => anyhow::Error::new(other).context(format!("writing ConfigMap {ns}/{STATE_CONFIGMAP} on site {}", site.id)),
    })?;
    Ok(())
}

/// Read a site's record again (after a write, or to refresh the resourceVersion).
pub async fn reread(site: &Site, settings: &Settings) -> Result<(SiteState, Option<String>)> {
    match read_record(site, settings).await {
        SiteRecord::Present { state, resource_version } => Ok((*state, resource_version)),
        other => Err(anyhow!("site {}: no DR record ({other:?})", site.id)).context("reading the DR state"),
    }
}
