//! DR operations on the pair: the roles each site records (`state`), the DR view (`status`),
//! planned and unplanned `failover`, and the three-step `failback`. They reuse what install and
//! verify have: the settings, the rendered mirror objects, the kube apply path and waits, and the
//! Kafka connection of `verify`.
//!
//! What MirrorMaker makes hard, and where it is handled:
//! - identity topic names make loops undetectable: every command checks that the other direction
//!   does not copy before starting one ([`mirror::ensure_not_copying`]);
//! - a new mirror starts at the earliest record: reverse mirrors are created stopped and their
//!   start position set before they first run ([`failback`]);
//! - records of the old primary that never reached the new one cannot be truncated: failback
//!   reports them and requires a decision ([`offsets::stranded_partition`]);
//! - group offset sync is conservative and forward-only: groups are moved only when empty on the
//!   target and never backwards ([`offsets::identity_moves`]).

pub mod coverage;
pub mod failback;
pub mod failover;
pub mod kafka;
pub mod lag;
pub mod mirror;
pub mod offsets;
pub mod rights;
pub mod runbook;
pub mod sites;
pub mod state;
pub mod status;
pub mod topics;
pub mod users;

use crate::kube::client::Cluster;
use crate::material::{Material, Provenance};
use crate::plan::Posture;
use crate::profile::MirrorKind;
use crate::settings::{Settings, SiteId};
use anyhow::{Context, Result, bail};
use kafka::{KafkaSite, MirrorFilter};
use sites::{SiteInputs, Sites};
use state::{Direction, Roles, Verdict};
use std::sync::Arc;
use std::time::Duration;

/// Everything a DR operation works with.
pub struct Dr {
    pub sites: Sites,
    pub filter: MirrorFilter,
    pub kind: MirrorKind,
}

impl Dr {
    pub async fn new(settings: &Settings, inputs: &SiteInputs, timeout: Duration) -> Result<Dr> {
        let sites = Sites::discover(settings, inputs, timeout).await;
        // serve's canaries are not client data: a primary's serve writes them every interval, so
        // quiesce, drain and the stranded tail would never settle on them.
        let filter = mirror_filter(settings, &[settings.canary_topic()])?;
        Ok(Dr { sites, filter, kind: settings.mirror_kind() })
    }

    pub fn settings(&self) -> &Settings {
        &self.sites.settings
    }

    pub fn timeout(&self) -> Duration {
        self.sites.timeout
    }

    pub fn cluster(&self, site: SiteId) -> Result<&Cluster> {
        self.sites.get(site).cluster()
    }

    /// Connect to a site's Kafka (an error when it does not answer).
    pub async fn kafka(&self, site: SiteId) -> Result<Arc<KafkaSite>> {
        let conn = self.sites.get(site).kafka()?.clone();
        blocking(move || KafkaSite::connect(&conn).map(Arc::new)).await
    }

    /// The CA and password already in the reachable site(s); DR never generates new ones.
    pub async fn material(&self) -> Result<Material> {
        let reachable: Vec<(SiteId, Cluster)> =
            SiteId::ALL.iter().filter_map(|s| self.sites.get(*s).kube.as_ref().ok().map(|c| (*s, c.clone()))).collect();
        // What the sites hold, whatever files the environment names (AMQDR_PASSWORD_FILE is for
        // install's first run): a DR command re-applies the sites' material, never a file's.
        let mut settings = self.settings().clone();
        settings.user.password_file = None;
        settings.mirror.password_file = None;
        settings.dr.password_file = None;
        let existing = crate::kube::cluster_state::existing_material_from(&reachable, &settings).await?;
        let material = Material::resolve(&settings, existing)?;
        if !matches!(material.ca_provenance, Provenance::Cluster(_)) || !matches!(material.password_provenance, Provenance::Cluster(_)) {
            bail!(
                crate::error::UsageError::new("the sites hold no cluster CA or user password Secrets")
                    .with_hint("run `amqdr install` first")
            );
        }
        Ok(material)
    }

    pub fn mm1_group(&self) -> String {
        self.settings().mirror_group_id()
    }
}

/// The topics and groups the mirror carries (its scope), without the mirror's own and `extra_topics`.
pub fn mirror_filter(settings: &Settings, extra_topics: &[&str]) -> Result<MirrorFilter> {
    let internal_groups = vec![settings.mirror_group_id(), format!("{}-connect", settings.mirror.name)];
    MirrorFilter::with_scope(crate::scope::Scope::of(settings, extra_topics)?, &settings.mirror.groups_pattern, &internal_groups)
}

/// librdkafka calls block: run them off the async runtime.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f).await.context("DR worker thread panicked")?
}

/// What the recorded roles require of `install` / `mirror deploy`: the production -> DR mirror
/// copies only while production is the primary and the recorded direction is a -> b. With no
/// records (a first install) it copies.
pub fn posture(roles: &Roles) -> Posture {
    let forward = match roles.verdict() {
        Verdict::Unknown { .. } => true,
        Verdict::Primary { site: SiteId::A, .. } => {
            SiteId::ALL.iter().filter_map(|s| roles.get(*s).state()).all(|s| s.mirror == Direction::AToB)
        }
        _ => false,
    };
    let mirror_source = SiteId::ALL
        .iter()
        .filter_map(|s| roles.get(*s).state())
        .find_map(|s| s.mirror.sites().map(|(source, _)| source))
        .unwrap_or(SiteId::A);
    Posture { forward_mirror_running: forward, mirror_source, fenced: fenced_sites(roles), open_kafka: Vec::new() }
}

/// Sites the application may not write to: recorded fenced, or claiming primary at an older
/// epoch than the other site's (fenced by the epoch).
pub fn fenced_sites(roles: &Roles) -> Vec<SiteId> {
    let stale = match roles.verdict() {
        Verdict::Primary { stale, .. } => stale,
        _ => None,
    };
    SiteId::ALL
        .into_iter()
        .filter(|s| stale == Some(*s) || roles.get(*s).state().is_some_and(|st| st.role == state::Role::Fenced))
        .collect()
}

/// The roles as `install` sees them (both clusters reachable).
pub async fn roles_for_install(clusters: &crate::kube::client::Clusters, settings: &Settings) -> Roles {
    roles_of(settings, Ok(clusters.site(SiteId::A).clone()), Ok(clusters.site(SiteId::B).clone())).await
}

/// The roles where either site's kube API may not answer (an unreachable site's record says why).
pub async fn roles_reachable(cache: &crate::kube::client::ClusterCache, settings: &Settings) -> Roles {
    let (a, b) = tokio::join!(sites::reach_kube(cache, settings, SiteId::A), sites::reach_kube(cache, settings, SiteId::B));
    roles_of(settings, a, b).await
}

async fn roles_of(
    settings: &Settings,
    a: Result<crate::kube::client::Cluster, String>,
    b: Result<crate::kube::client::Cluster, String>,
) -> Roles {
    let (a, b) = (
        sites::Site { id: SiteId::A, kube: a, kafka: Err(String::new()) },
        sites::Site { id: SiteId::B, kube: b, kafka: Err(String::new()) },
    );
    let (ra, rb) = tokio::join!(sites::read_record(&a, settings), sites::read_record(&b, settings));
    Roles { a: ra, b: rb }
}

/// A refusal that changed nothing: exit code 2 with the fix.
pub fn refuse(message: impl Into<String>, fix: impl Into<String>) -> anyhow::Error {
    crate::error::UsageError::new(message).with_hint(fix).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use state::{Role, SiteRecord, SiteState};

    fn rec(site: SiteId, role: Role, epoch: u64, mirror: Direction) -> SiteRecord {
        let mut s = SiteState::initial(site);
        s.role = role;
        s.epoch = epoch;
        s.mirror = mirror;
        SiteRecord::Present { state: Box::new(s), resource_version: None }
    }

    #[test]
    fn install_keeps_the_forward_mirror_stopped_after_a_failover() {
        let fresh = Roles { a: SiteRecord::Missing, b: SiteRecord::Missing };
        assert!(posture(&fresh).forward_mirror_running);
        let normal = Roles { a: rec(SiteId::A, Role::Primary, 1, Direction::AToB), b: rec(SiteId::B, Role::Standby, 1, Direction::AToB) };
        assert!(posture(&normal).forward_mirror_running);
        let failed_over =
            Roles { a: rec(SiteId::A, Role::Fenced, 2, Direction::None), b: rec(SiteId::B, Role::Primary, 2, Direction::None) };
        assert!(!posture(&failed_over).forward_mirror_running);
        let syncing = Roles { a: rec(SiteId::A, Role::Fenced, 2, Direction::BToA), b: rec(SiteId::B, Role::Primary, 2, Direction::BToA) };
        assert!(!posture(&syncing).forward_mirror_running);
        let split = Roles { a: rec(SiteId::A, Role::Primary, 2, Direction::None), b: rec(SiteId::B, Role::Primary, 2, Direction::None) };
        assert!(!posture(&split).forward_mirror_running);
        assert_eq!(posture(&failed_over).fenced, [SiteId::A]);
        assert_eq!(posture(&syncing).mirror_source, SiteId::B);
        assert_eq!(posture(&normal).mirror_source, SiteId::A);
        assert!(posture(&normal).fenced.is_empty());
    }
}
