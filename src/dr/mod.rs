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
pub mod mirror;
pub mod offsets;
pub mod report;
pub mod rights;
pub mod runbook;
pub mod sites;
pub mod status;
pub mod topics;
pub mod users;

use crate::kafka::blocking;
use crate::kafka::site::{KafkaSite, MirrorFilter};
use crate::kube::client::Cluster;
use crate::material::{Material, Provenance};
use crate::profile::MirrorKind;
use crate::settings::{Settings, SiteId};
use anyhow::{Result, bail};
use sites::{SiteInputs, Sites};
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
        let filter = MirrorFilter::of(settings, &[settings.canary_topic()])?;
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

/// A refusal that changed nothing: exit code 2 with the fix.
pub fn refuse(message: impl Into<String>, fix: impl Into<String>) -> anyhow::Error {
    crate::error::UsageError::new(message).with_hint(fix).into()
}
