//! The health verdict a global traffic manager acts on, as pure functions: flap protection
//! (DOWN after `fail_after` consecutive failed rounds, UP after `recover_after` good ones), the
//! effective DR role (this site's record, fenced by a peer that is primary at a higher epoch),
//! and the `/health` answer built from both.

use crate::record::Role;
use crate::settings::SiteId;

/// Consecutive probe results turned into UP / DOWN.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HealthTracker {
    /// None until the first round; that round decides alone (there is no history to protect).
    pub up: Option<bool>,
    pub consecutive_failures: u32,
    pub consecutive_successes: u32,
}

impl HealthTracker {
    /// Record one round; returns the new state when it changed.
    pub fn observe(&mut self, ok: bool, fail_after: u32, recover_after: u32) -> Option<bool> {
        if ok {
            self.consecutive_successes += 1;
            self.consecutive_failures = 0;
        } else {
            self.consecutive_failures += 1;
            self.consecutive_successes = 0;
        }
        let next = match self.up {
            None => ok,
            Some(true) => self.consecutive_failures < fail_after,
            Some(false) => self.consecutive_successes >= recover_after,
        };
        let changed = self.up != Some(next);
        self.up = Some(next);
        changed.then_some(next)
    }
}

/// Where this site's role came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleSource {
    /// The site's `amqdr-dr-state` record, read this round.
    Record,
    /// The record could not be read this round; the last one read stands.
    Cached { why: String },
    /// No record exists (or no Kubernetes access): install's roles, a primary and b standby.
    Install { why: String },
    /// The record could not be read and none was read before.
    Unknown { why: String },
}

impl RoleSource {
    pub fn label(&self) -> &'static str {
        match self {
            RoleSource::Record => "record",
            RoleSource::Cached { .. } => "cached",
            RoleSource::Install { .. } => "install",
            RoleSource::Unknown { .. } => "unknown",
        }
    }

    pub fn why(&self) -> Option<&str> {
        match self {
            RoleSource::Record => None,
            RoleSource::Cached { why } | RoleSource::Install { why } | RoleSource::Unknown { why } => Some(why),
        }
    }
}

/// This site's role as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnRole {
    pub role: Option<Role>,
    pub epoch: u64,
    pub source: RoleSource,
}

impl OwnRole {
    /// What `install` records when there is no record: a primary, b standby, epoch 1.
    pub fn install_default(site: SiteId, why: String) -> OwnRole {
        let role = if site == SiteId::A { Role::Primary } else { Role::Standby };
        OwnRole { role: Some(role), epoch: 1, source: RoleSource::Install { why } }
    }
}

/// The role `serve` acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Recorded role, or fenced when a peer primary has a higher epoch; None when unknown.
    pub role: Option<Role>,
    pub epoch: u64,
    /// Clients may be sent here (if Kafka is healthy too); only then are canaries produced.
    pub routable: bool,
    /// Why not routable.
    pub reason: Option<String>,
}

/// The effective role of `site`: its record, unless the peer's canaries show it primary at an
/// epoch at least as high (`peer_primary_epoch`). Higher epoch wins (the rule of
/// [`crate::record::Roles::verdict`]); equal epochs are split brain and neither is routable.
pub fn decide(site: SiteId, own: &OwnRole, peer_primary_epoch: Option<u64>) -> Decision {
    let peer = site.other();
    let not = |role: Option<Role>, reason: String| Decision { role, epoch: own.epoch, routable: false, reason: Some(reason) };
    match own.role {
        None => not(None, format!("DR role unknown: {}", own.source.why().unwrap_or("no record"))),
        Some(Role::Standby) => not(Some(Role::Standby), "standby: receives the mirror, never routable".into()),
        Some(Role::Fenced) => not(Some(Role::Fenced), "fenced: a former primary, not routable until failback".into()),
        Some(Role::Primary) => match peer_primary_epoch {
            Some(pe) if pe > own.epoch => Decision {
                role: Some(Role::Fenced),
                epoch: own.epoch,
                routable: false,
                reason: Some(format!("fenced by epoch: site {peer} is primary at epoch {pe}, above this site's epoch {}", own.epoch)),
            },
            Some(pe) if pe == own.epoch => not(
                Some(Role::Primary),
                format!("split brain: site {peer} also claims primary at epoch {pe}; fix the DR records (amqdr status)"),
            ),
            _ => Decision { role: Some(Role::Primary), epoch: own.epoch, routable: true, reason: None },
        },
    }
}

/// Kafka's state as the probe rounds found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KafkaState {
    /// No round finished yet.
    Unknown,
    Up,
    Down {
        reason: String,
    },
}

/// The `/health` answer: 200 only when Kafka is UP and the site is routable. The body always
/// has the same form; only a routable site's starts with `AMQDR_SITE=UP`, so a string-match
/// monitor on `AMQDR_SITE=UP` agrees with the status code.
pub fn answer(site: SiteId, kafka: &KafkaState, decision: &Decision, source: &RoleSource) -> (u16, String) {
    let routable = *kafka == KafkaState::Up && decision.routable;
    let role = decision.role.map(Role::as_str).unwrap_or("unknown");
    let (kafka_word, kafka_reason) = match kafka {
        KafkaState::Unknown => ("unknown", Some("no probe round finished yet".to_string())),
        KafkaState::Up => ("up", None),
        KafkaState::Down { reason } => ("down", Some(reason.clone())),
    };
    let mut body = format!(
        "AMQDR_SITE={} site={site} role={role} epoch={} kafka={kafka_word} roles={}",
        if routable { "UP" } else { "DOWN" },
        decision.epoch,
        source.label()
    );
    let reason = kafka_reason.or(decision.reason.clone());
    if let Some(r) = reason {
        body.push_str(&format!(" reason=\"{}\"", one_line(&r)));
    }
    if let Some(why) = source.why() {
        body.push_str(&format!(" note=\"{}\"", one_line(why)));
    }
    body.push('\n');
    (if routable { 200 } else { 503 }, body)
}

fn one_line(text: &str) -> String {
    text.replace('"', "'").split('\n').map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn down_after_fail_after_rounds_and_up_after_recover_after() {
        let mut t = HealthTracker::default();
        assert_eq!(t.observe(true, 3, 2), Some(true), "the first round decides");
        assert_eq!(t.observe(false, 3, 2), None);
        assert_eq!(t.observe(false, 3, 2), None);
        assert_eq!(t.observe(true, 3, 2), None, "a good round resets the count");
        assert_eq!(t.observe(false, 3, 2), None);
        assert_eq!(t.observe(false, 3, 2), None);
        assert_eq!(t.observe(false, 3, 2), Some(false), "third consecutive failure");
        assert_eq!(t.consecutive_failures, 3);
        assert_eq!(t.observe(true, 3, 2), None);
        assert_eq!(t.observe(false, 3, 2), None, "a failure resets recovery");
        assert_eq!(t.observe(true, 3, 2), None);
        assert_eq!(t.observe(true, 3, 2), Some(true));
        let mut first_bad = HealthTracker::default();
        assert_eq!(first_bad.observe(false, 3, 2), Some(false));
        let mut once = HealthTracker::default();
        once.observe(true, 1, 1);
        assert_eq!(once.observe(false, 1, 1), Some(false));
        assert_eq!(once.observe(true, 1, 1), Some(true));
    }

    fn own(role: Role, epoch: u64) -> OwnRole {
        OwnRole { role: Some(role), epoch, source: RoleSource::Record }
    }

    #[test]
    fn only_a_primary_not_outranked_is_routable() {
        let d = decide(SiteId::A, &own(Role::Primary, 1), None);
        assert!(d.routable && d.role == Some(Role::Primary));
        let d = decide(SiteId::A, &own(Role::Primary, 3), Some(2));
        assert!(d.routable, "a stale peer primary does not fence");
        let d = decide(SiteId::B, &own(Role::Standby, 1), None);
        assert!(!d.routable && d.role == Some(Role::Standby));
        let d = decide(SiteId::A, &own(Role::Fenced, 2), None);
        assert!(!d.routable && d.role == Some(Role::Fenced));
        let d = decide(SiteId::A, &OwnRole { role: None, epoch: 0, source: RoleSource::Unknown { why: "forbidden".into() } }, None);
        assert!(!d.routable && d.reason.unwrap().contains("forbidden"));
    }

    #[test]
    fn a_returning_old_primary_is_fenced_by_the_higher_epoch() {
        // Unplanned failover while a was unreachable: a's record still says primary at epoch 1,
        // b is primary at epoch 2 and its canaries say so.
        let d = decide(SiteId::A, &own(Role::Primary, 1), Some(2));
        assert!(!d.routable);
        assert_eq!(d.role, Some(Role::Fenced));
        assert!(d.reason.unwrap().contains("site b is primary at epoch 2"));
        let d = decide(SiteId::A, &own(Role::Primary, 2), Some(2));
        assert!(!d.routable && d.reason.unwrap().contains("split brain"));
    }

    #[test]
    fn health_answers() {
        let primary = decide(SiteId::A, &own(Role::Primary, 4), None);
        let (code, body) = answer(SiteId::A, &KafkaState::Up, &primary, &RoleSource::Record);
        assert_eq!((code, body.as_str()), (200, "AMQDR_SITE=UP site=a role=primary epoch=4 kafka=up roles=record\n"));
        let (code, body) =
            answer(SiteId::A, &KafkaState::Down { reason: "cannot reach site a\n  fix: check".into() }, &primary, &RoleSource::Record);
        assert_eq!(code, 503);
        assert!(body.starts_with("AMQDR_SITE=DOWN site=a role=primary epoch=4 kafka=down"), "{body}");
        assert!(body.contains(r#"reason="cannot reach site a; fix: check""#), "{body}");
        let standby = decide(SiteId::B, &OwnRole::install_default(SiteId::B, "no DR record".into()), None);
        let (code, body) = answer(SiteId::B, &KafkaState::Up, &standby, &standby_source());
        assert_eq!(code, 503);
        assert!(body.starts_with("AMQDR_SITE=DOWN site=b role=standby epoch=1 kafka=up roles=install reason=\"standby"), "{body}");
        assert!(body.contains("note=\"no DR record\""), "{body}");
        assert!(!body.contains("AMQDR_SITE=UP"));
        let (code, body) = answer(SiteId::A, &KafkaState::Unknown, &primary, &RoleSource::Record);
        assert_eq!(code, 503);
        assert!(body.contains("kafka=unknown"), "{body}");
    }

    fn standby_source() -> RoleSource {
        RoleSource::Install { why: "no DR record".into() }
    }
}
