//! What Strimzi's cluster operator owns in a Kafka's `spec.kafka.config`, release by release:
//! `KafkaClusterSpec.FORBIDDEN_PREFIXES` and `FORBIDDEN_PREFIX_EXCEPTIONS` at 0.45.2 and 1.2.0.
//!
//! amqdr keeps its own reading of the same source (`src/strimzi_rules.rs`), which it uses to
//! refuse such keys in the settings. This one is the test bed's: the Kafka test bed refuses a
//! rendered Kafka that carries an owned key. They are kept apart on purpose, as two readings of
//! Strimzi, and `tests/strimzi_rules_agree.rs` holds them to the same answer for every key either
//! one names.

use serde_json::Value;

/// The Strimzi release whose rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Release {
    /// 0.45.2 (kafka.strimzi.io/v1beta2).
    Legacy,
    /// 1.2.0 (kafka.strimzi.io/v1).
    Current,
}

impl Release {
    pub const ALL: [Release; 2] = [Release::Legacy, Release::Current];

    /// The release a rendered Kafka is for, by its apiVersion.
    pub fn of_kafka(kafka: &Value) -> Release {
        match kafka.get("apiVersion").and_then(Value::as_str) {
            Some("kafka.strimzi.io/v1") => Release::Current,
            _ => Release::Legacy,
        }
    }

    /// Keys starting with one of these (compared lower-cased) are the operator's.
    pub fn owned_prefixes(self) -> Vec<&'static str> {
        let mut all = vec![
            "listeners",
            "advertised.",
            "broker.",
            "listener.",
            "host.name",
            "port",
            "inter.broker.listener.name",
            "sasl.",
            "ssl.",
            "security.",
            "password.",
            "log.dir",
            "zookeeper.connect",
            "zookeeper.set.acl",
            "zookeeper.ssl",
            "zookeeper.clientCnxnSocket",
            "authorizer.",
            "super.user",
            "cruise.control.metrics.topic",
            "cruise.control.metrics.reporter.bootstrap.servers",
            "node.id",
            "process.roles",
            "controller.",
            "metadata.log.dir",
            "zookeeper.metadata.migration.enable",
            "client.quota.callback.static.kafka.admin.",
            "client.quota.callback.static.produce",
            "client.quota.callback.static.fetch",
            "client.quota.callback.static.storage.per.volume.limit.min.available.",
            "client.quota.callback.static.excluded.principal.name.list",
        ];
        if self == Release::Current {
            all.extend(["prometheus.metrics.reporter.", "cordoned.log.dirs"]);
        }
        all
    }

    /// Exact keys let through although a prefix matches.
    pub fn exceptions(self) -> Vec<&'static str> {
        let mut all = vec![
            "zookeeper.connection.timeout.ms",
            "sasl.server.max.receive.size",
            "ssl.cipher.suites",
            "ssl.protocol",
            "ssl.enabled.protocols",
            "ssl.secure.random.implementation",
            "cruise.control.metrics.topic.num.partitions",
            "cruise.control.metrics.topic.replication.factor",
            "cruise.control.metrics.topic.retention.ms",
            "cruise.control.metrics.topic.auto.create.retries",
            "cruise.control.metrics.topic.auto.create.timeout.ms",
            "cruise.control.metrics.topic.min.insync.replicas",
            "controller.quorum.election.backoff.max.ms",
            "controller.quorum.election.timeout.ms",
            "controller.quorum.fetch.timeout.ms",
        ];
        if self == Release::Current {
            all.extend(["broker.session.timeout.ms", "broker.heartbeat.interval.ms", "controller.socket.timeout.ms"]);
        }
        all
    }

    /// Whether the operator owns `key` in `spec.kafka.config` (and drops it with a log line), for
    /// a Kafka whose listeners are `listener_ids` (`<name>-<port>`). As the operator compares: the
    /// key lower-cased against the prefixes as written (so a prefix with capitals never matches),
    /// the exceptions against the key as written.
    pub fn owns(self, key: &str, listener_ids: &[String]) -> bool {
        let lower = key.to_lowercase();
        if !self.owned_prefixes().iter().any(|p| lower.starts_with(p)) {
            return false;
        }
        let per_listener = self == Release::Current
            && listener_ids.iter().any(|id| PER_LISTENER_CONFIGS.iter().any(|c| key == format!("listener.name.{id}.{c}")));
        !(self.exceptions().contains(&key) || per_listener)
    }
}

/// `KafkaClusterSpec.ALLOWED_PER_LISTENER_CONFIGS` (1.2.0): allowed as
/// `listener.name.<name>-<port>.<key>` for each listener of the Kafka.
const PER_LISTENER_CONFIGS: &[&str] = &["connections.max.reauth.ms", "max.connections", "max.connection.creation.rate"];

/// The listeners of a rendered Kafka as the operator names them (`<name>-<port>`).
pub fn listener_ids(kafka: &Value) -> Vec<String> {
    kafka
        .pointer("/spec/kafka/listeners")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|l| Some(format!("{}-{}", l.get("name")?.as_str()?, l.get("port")?.as_u64()?)))
        .collect()
}
