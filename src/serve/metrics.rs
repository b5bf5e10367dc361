//! The DR metrics `/metrics` exposes (prometheus-client, OpenMetrics text): base units, `_total`
//! counters, and only low-cardinality labels (`site` on every series, `role`, `check`, `topic`).

use crate::record::Role;
use crate::settings::SiteId;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};
use std::sync::atomic::AtomicU64;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RoleLabels {
    pub role: &'static str,
}

/// What failed in a probe round.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CheckLabels {
    pub check: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TopicLabels {
    pub topic: String,
}

/// Probe checks, the values of the `check` label.
pub mod check {
    /// Reaching the site's Kafka (connection, TLS, authentication) or its connection details.
    pub const CONNECT: &str = "connect";
    /// Leaderless or under-min-ISR partitions, missing canary topic.
    pub const METADATA: &str = "metadata";
    /// The canary round trip (acks=all, consumed back).
    pub const CANARY: &str = "canary";
}

type FloatGauge = Gauge<f64, AtomicU64>;

pub struct Metrics {
    registry: Registry,
    pub site_up: Gauge,
    pub routable: Gauge,
    pub role: Family<RoleLabels, Gauge>,
    pub epoch: Gauge,
    pub rounds: Counter,
    pub failures: Family<CheckLabels, Counter>,
    pub roundtrip: Histogram,
    pub delay: Histogram,
    pub rpo: FloatGauge,
    pub lag_records: Family<TopicLabels, Gauge>,
    pub lag_seconds: Family<TopicLabels, FloatGauge>,
    pub skew: FloatGauge,
    pub unprotected_topics: FloatGauge,
    pub identity_drift: FloatGauge,
    pub coverage_age: FloatGauge,
}

const ROLES: [Role; 3] = [Role::Primary, Role::Standby, Role::Fenced];

impl Metrics {
    pub fn new(site: SiteId) -> Metrics {
        let mut r = Registry::with_prefix_and_labels("amqdr", [("site".into(), site.as_str().into())].into_iter());
        let m = Metrics {
            registry: Registry::default(),
            site_up: Gauge::default(),
            routable: Gauge::default(),
            role: Family::default(),
            epoch: Gauge::default(),
            rounds: Counter::default(),
            failures: Family::default(),
            roundtrip: Histogram::new([0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]),
            delay: Histogram::new([0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0]),
            rpo: FloatGauge::default(),
            lag_records: Family::default(),
            lag_seconds: Family::default(),
            skew: FloatGauge::default(),
            unprotected_topics: FloatGauge::default(),
            identity_drift: FloatGauge::default(),
            coverage_age: FloatGauge::default(),
        };
        r.register("site_up", "1 when the last probe rounds found this site's Kafka healthy (flap-protected)", m.site_up.clone());
        r.register("site_routable", "1 when /health answers 200: healthy and primary", m.routable.clone());
        r.register("site_role", "The DR role this site acts on (1 for the current one)", m.role.clone());
        r.register("site_epoch", "The DR epoch of this site's role", m.epoch.clone());
        r.register("probe_rounds", "Probe rounds run", m.rounds.clone());
        r.register("probe_failures", "Failed probe rounds, by the check that failed", m.failures.clone());
        r.register_with_unit(
            "canary_roundtrip",
            "Canary produced with acks=all and consumed back on this site",
            Unit::Seconds,
            m.roundtrip.clone(),
        );
        r.register_with_unit(
            "replication_delay",
            "Mirrored canaries: arrival on the receiving site minus send time on the producing site",
            Unit::Seconds,
            m.delay.clone(),
        );
        r.register_with_unit(
            "rpo",
            "Now minus the send time of the newest canary seen on DR: what losing production now would lose at most (NaN before one was seen)",
            Unit::Seconds,
            m.rpo.clone(),
        );
        r.register("replication_lag_records", "Records of a mirrored topic not yet on DR (from offsets)", m.lag_records.clone());
        r.register_with_unit(
            "replication_lag",
            "Age of the oldest record of a mirrored topic not yet on DR (from offsets)",
            Unit::Seconds,
            m.lag_seconds.clone(),
        );
        r.register_with_unit(
            "clock_skew",
            "Receiving site's clock minus producing site's clock, as far as canaries prove it (0: none provable)",
            Unit::Seconds,
            m.skew.clone(),
        );
        // From the DR record: `amqdr status` measures coverage as DR operations' user, who sees
        // every topic in scope (serve's application user may not).
        r.register(
            "unprotected_topics",
            "Topics in the mirror's scope that the standby lacks or holds with fewer partitions, as `amqdr status` last recorded it (NaN before)",
            m.unprotected_topics.clone(),
        );
        r.register(
            "identity_drift",
            "Identities whose KafkaUser or password is not what DR needs, as `amqdr status` last recorded it (NaN before)",
            m.identity_drift.clone(),
        );
        r.register_with_unit(
            "coverage_age",
            "Seconds since `amqdr status` last recorded DR coverage in this site's record (NaN before)",
            Unit::Seconds,
            m.coverage_age.clone(),
        );
        m.rpo.set(f64::NAN);
        m.unprotected_topics.set(f64::NAN);
        m.identity_drift.set(f64::NAN);
        m.coverage_age.set(f64::NAN);
        for role in ROLES {
            m.role.get_or_create(&RoleLabels { role: role.as_str() }).set(0);
        }
        for c in [check::CONNECT, check::METADATA, check::CANARY] {
            let _ = m.failures.get_or_create(&CheckLabels { check: c });
        }
        Metrics { registry: r, ..m }
    }

    pub fn set_role(&self, current: Option<Role>, epoch: u64) {
        for role in ROLES {
            self.role.get_or_create(&RoleLabels { role: role.as_str() }).set(i64::from(Some(role) == current));
        }
        self.epoch.set(epoch as i64);
    }

    /// DR coverage as `amqdr status` last recorded it (None: never).
    pub fn set_coverage(&self, coverage: Option<&crate::record::CoverageSummary>) {
        let age = coverage
            .and_then(|c| time::OffsetDateTime::parse(&c.at, &time::format_description::well_known::Rfc3339).ok())
            .map(|at| (time::OffsetDateTime::now_utc() - at).as_seconds_f64().max(0.0));
        self.unprotected_topics.set(coverage.map_or(f64::NAN, |c| c.unprotected_topics as f64));
        self.identity_drift.set(coverage.map_or(f64::NAN, |c| c.identity_drift as f64));
        self.coverage_age.set(age.unwrap_or(f64::NAN));
    }

    /// Lag per topic; series of topics no longer mirrored go away.
    pub fn set_lag(&self, lags: &[crate::kafka::lag::TopicLag], previous: &[String]) {
        for old in previous {
            if !lags.iter().any(|l| &l.topic == old) {
                let labels = TopicLabels { topic: old.clone() };
                self.lag_records.remove(&labels);
                self.lag_seconds.remove(&labels);
            }
        }
        for l in lags {
            let labels = TopicLabels { topic: l.topic.clone() };
            self.lag_records.get_or_create(&labels).set(l.records);
            self.lag_seconds.get_or_create(&labels).set(l.seconds);
        }
    }

    /// OpenMetrics text.
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(8 * 1024);
        prometheus_client::encoding::text::encode(&mut out, &self.registry).expect("writing to a String");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_units_and_labels() {
        let m = Metrics::new(SiteId::B);
        m.rounds.inc();
        m.failures.get_or_create(&CheckLabels { check: check::CANARY }).inc();
        m.roundtrip.observe(0.004);
        m.set_role(Some(Role::Standby), 2);
        m.set_lag(&[crate::kafka::lag::TopicLag { topic: "my-topic".into(), records: 5, seconds: 1.5 }], &[]);
        let text = m.encode();
        for line in [
            "amqdr_probe_rounds_total{site=\"b\"} 1",
            "amqdr_probe_failures_total{site=\"b\",check=\"canary\"} 1",
            "amqdr_probe_failures_total{site=\"b\",check=\"connect\"} 0",
            "amqdr_site_role{site=\"b\",role=\"standby\"} 1",
            "amqdr_site_role{site=\"b\",role=\"primary\"} 0",
            "amqdr_site_epoch{site=\"b\"} 2",
            "amqdr_rpo_seconds{site=\"b\"} NaN",
            "amqdr_replication_lag_records{site=\"b\",topic=\"my-topic\"} 5",
            "amqdr_replication_lag_seconds{site=\"b\",topic=\"my-topic\"} 1.5",
            "# UNIT amqdr_canary_roundtrip_seconds seconds",
            "# EOF",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
        }
        m.set_lag(&[], &["my-topic".into()]);
        assert!(!m.encode().contains("my-topic"));
    }

    #[test]
    fn coverage_comes_from_the_record_with_its_age() {
        let m = Metrics::new(SiteId::A);
        assert!(m.encode().contains("amqdr_unprotected_topics{site=\"a\"} NaN"), "{}", m.encode());
        let at = crate::record::now_rfc3339();
        m.set_coverage(Some(&crate::record::CoverageSummary { at, unprotected_topics: 2, identity_drift: 1 }));
        let text = m.encode();
        assert!(text.contains("amqdr_unprotected_topics{site=\"a\"} 2"), "{text}");
        assert!(text.contains("amqdr_identity_drift{site=\"a\"} 1"), "{text}");
        assert!(m.coverage_age.get() >= 0.0 && m.coverage_age.get() < 60.0, "{}", m.coverage_age.get());
        m.set_coverage(None);
        assert!(m.identity_drift.get().is_nan());
    }
}
