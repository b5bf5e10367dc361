//! Reaching the two sites for a DR operation, where either may be down: each site's kube API
//! (one client per context, as everywhere) and its Kafka cluster (the connection `verify` uses:
//! bootstrap from the Kafka status, CA and password from the site's Secrets, or explicit flags).
//! A site whose own cluster is gone can still be reached as a Kafka cluster through what the
//! other site knows of it: the mirror's source address, the shared CA and the password.
//! DR operations act as their own Kafka user (`dr.user`, see `acl::operations`).

use crate::acl::Purpose;
use crate::kafka::connection::{ConnectionInputs, ConnectionSettings};
use crate::kube::apply;
use crate::kube::client::{Cluster, ClusterCache};
use crate::record::{Roles, SiteRecord, SiteState, store};
use crate::settings::{Settings, SiteId};
use anyhow::{Context, Result, anyhow};
use std::time::Duration;

/// One site as a DR operation sees it.
#[derive(Clone)]
pub struct Site {
    pub id: SiteId,
    /// The site's cluster, when its API server answered.
    pub kube: Result<Cluster, String>,
    /// How to reach the site's Kafka (not whether it answers: see [`crate::kafka::site::KafkaSite::connect`]).
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
        let (ka, kb) = tokio::join!(cache.reach(settings, SiteId::A), cache.reach(settings, SiteId::B));
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
        match crate::kafka::from_cluster(settings, site, explicit, timeout, own_cluster, Purpose::DrOperations).await {
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
    let mut c = crate::kafka::from_cluster(settings, other, explicit, timeout, other_cluster, Purpose::DrOperations).await?;
    c.label = site.as_str().into();
    c.bootstrap = bootstrap;
    Ok(c)
}

/// A site's DR record (Unreachable when its kube API did not answer).
pub async fn read_record(site: &Site, settings: &Settings) -> SiteRecord {
    match &site.kube {
        Ok(cluster) => store::read(cluster, settings, site.id).await,
        Err(why) => SiteRecord::Unreachable { reason: why.clone() },
    }
}

/// Write a site's record. `expected` is the resourceVersion read before: the write fails if
/// another amqdr changed the record meanwhile (so epochs never go backwards under a race).
pub async fn write_record(site: &Site, settings: &Settings, state: &SiteState, expected: Option<&str>) -> Result<()> {
    store::write(site.cluster()?, settings, site.id, state, expected).await
}

/// Read a site's record again (after a write, or to refresh the resourceVersion).
pub async fn reread(site: &Site, settings: &Settings) -> Result<(SiteState, Option<String>)> {
    match read_record(site, settings).await {
        SiteRecord::Present { state, resource_version } => Ok((*state, resource_version)),
        other => Err(anyhow!("site {}: no DR record ({other:?})", site.id)).context("reading the DR state"),
    }
}
