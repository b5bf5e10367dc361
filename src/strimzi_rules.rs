//! What the profile's Strimzi operator rejects or silently drops in a Kafka resource, so that
//! validation can say so before anything is applied: listener options per listener type
//! (the operator's ListenersValidator), the API each external listener type needs, and the
//! `spec.kafka.config` keys the operator owns (KafkaClusterSpec's forbidden prefixes).

use crate::profile::{ListenerType, Profile};

/// The listener types whose `configuration.bootstrap.host` the operator accepts, as its
/// message names them ("... because it is not TLSRoute, Route, or Ingress based listener").
pub fn bootstrap_host_allowed(kind: ListenerType) -> bool {
    matches!(kind, ListenerType::Route | ListenerType::Tlsroute)
}

/// The operator's own words when `bootstrap.host` is set on another listener type.
pub fn bootstrap_host_rejection(profile: Profile) -> &'static str {
    match profile {
        Profile::Legacy => "cannot configure bootstrap.host because it is not Route or Ingress based listener",
        Profile::Current => "cannot configure bootstrap.host because it is not TLSRoute, Route, or Ingress based listener",
    }
}

/// An API group/version/kind a listener type needs the cluster to serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequiredApi {
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    /// How the operator fails without it (its Kafka stays NotReady with this message).
    pub operator_error: &'static str,
}

/// What the operator needs served to expose a listener of `kind` (PlatformFeaturesAvailability:
/// `route.openshift.io/v1` for routes, `gateway.networking.k8s.io/v1` TLSRoute in Strimzi 1.2.0).
pub fn required_api(kind: ListenerType) -> Option<RequiredApi> {
    match kind {
        ListenerType::Route => Some(RequiredApi {
            group: "route.openshift.io",
            version: "v1",
            kind: "Route",
            operator_error: "The OpenShift route API is not available in this Kubernetes cluster",
        }),
        ListenerType::Tlsroute => Some(RequiredApi {
            group: "gateway.networking.k8s.io",
            version: "v1",
            kind: "TLSRoute",
            operator_error: "The Gateway API TLSRoute resource is not available in this Kubernetes cluster",
        }),
        ListenerType::Loadbalancer | ListenerType::Nodeport => None,
    }
}

/// KafkaClusterSpec.FORBIDDEN_PREFIXES: keys starting with one of these (lower-cased) are dropped
/// from `spec.kafka.config` with only a line in the operator's log.
const FORBIDDEN_PREFIXES: &[&str] = &[
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

/// Added to the forbidden prefixes in Strimzi 1.x.
const FORBIDDEN_PREFIXES_CURRENT_ONLY: &[&str] = &["prometheus.metrics.reporter.", "cordoned.log.dirs"];

/// KafkaClusterSpec.FORBIDDEN_PREFIX_EXCEPTIONS (exact keys), shared by both releases.
const FORBIDDEN_PREFIX_EXCEPTIONS: &[&str] = &[
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

/// Exceptions added in Strimzi 1.x.
const FORBIDDEN_PREFIX_EXCEPTIONS_CURRENT_ONLY: &[&str] =
    &["broker.session.timeout.ms", "broker.heartbeat.interval.ms", "controller.socket.timeout.ms"];

/// KafkaClusterSpec.ALLOWED_PER_LISTENER_CONFIGS (Strimzi 1.x): allowed as
/// `listener.name.<name>-<port>.<key>` for each listener of the Kafka.
const ALLOWED_PER_LISTENER_CONFIGS: &[&str] = &["connections.max.reauth.ms", "max.connections", "max.connection.creation.rate"];

/// The listeners amqdr renders, as `<name>-<port>` (the operator's listener identifier).
pub const LISTENER_IDS: &[&str] = &["tls-9093", "external-9094"];

/// Every prefix and exception these rules name for `profile` (for checking another reading of
/// Strimzi's source against this one).
pub fn named_config_keys(profile: Profile) -> Vec<String> {
    let current = profile == Profile::Current;
    let mut keys: Vec<String> = FORBIDDEN_PREFIXES.iter().chain(FORBIDDEN_PREFIX_EXCEPTIONS).map(|k| k.to_string()).collect();
    if current {
        keys.extend(FORBIDDEN_PREFIXES_CURRENT_ONLY.iter().chain(FORBIDDEN_PREFIX_EXCEPTIONS_CURRENT_ONLY).map(|k| k.to_string()));
        for id in LISTENER_IDS {
            keys.extend(ALLOWED_PER_LISTENER_CONFIGS.iter().map(|c| format!("listener.name.{id}.{c}")));
        }
    }
    keys
}

/// The forbidden prefix `key` starts with, if the profile's operator drops it from
/// `spec.kafka.config` (compared the way the operator does: prefix on the lower-cased key,
/// exceptions on the key as written).
pub fn forbidden_kafka_config_prefix(profile: Profile, key: &str) -> Option<&'static str> {
    let lower = key.to_lowercase();
    let extra_prefixes: &[&str] = if profile == Profile::Current { FORBIDDEN_PREFIXES_CURRENT_ONLY } else { &[] };
    let prefix = FORBIDDEN_PREFIXES.iter().chain(extra_prefixes).find(|p| lower.starts_with(**p))?;
    let excepted = FORBIDDEN_PREFIX_EXCEPTIONS.contains(&key)
        || (profile == Profile::Current
            && (FORBIDDEN_PREFIX_EXCEPTIONS_CURRENT_ONLY.contains(&key)
                || LISTENER_IDS.iter().any(|id| ALLOWED_PER_LISTENER_CONFIGS.iter().any(|c| key == format!("listener.name.{id}.{c}")))));
    (!excepted).then_some(*prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_prefixes_follow_each_release() {
        for p in [Profile::Legacy, Profile::Current] {
            assert_eq!(forbidden_kafka_config_prefix(p, "ssl.keystore.location"), Some("ssl."));
            assert_eq!(forbidden_kafka_config_prefix(p, "Listeners"), Some("listeners"));
            assert_eq!(forbidden_kafka_config_prefix(p, "ssl.cipher.suites"), None);
            assert_eq!(forbidden_kafka_config_prefix(p, "log.dirs"), Some("log.dir"));
            assert_eq!(forbidden_kafka_config_prefix(p, "log.retention.hours"), None);
            assert_eq!(forbidden_kafka_config_prefix(p, "num.partitions"), None);
        }
        // 1.x: new exceptions and prefixes, per-listener settings of the listeners amqdr renders.
        assert_eq!(forbidden_kafka_config_prefix(Profile::Legacy, "broker.session.timeout.ms"), Some("broker."));
        assert_eq!(forbidden_kafka_config_prefix(Profile::Current, "broker.session.timeout.ms"), None);
        assert_eq!(forbidden_kafka_config_prefix(Profile::Legacy, "prometheus.metrics.reporter.listener"), None);
        assert_eq!(
            forbidden_kafka_config_prefix(Profile::Current, "prometheus.metrics.reporter.listener"),
            Some("prometheus.metrics.reporter.")
        );
        assert_eq!(forbidden_kafka_config_prefix(Profile::Current, "listener.name.external-9094.max.connections"), None);
        assert_eq!(forbidden_kafka_config_prefix(Profile::Legacy, "listener.name.external-9094.max.connections"), Some("listener."));
        assert_eq!(forbidden_kafka_config_prefix(Profile::Current, "listener.name.plain-9092.max.connections"), Some("listener."));
    }

    #[test]
    fn bootstrap_host_only_where_the_operator_takes_it() {
        assert!(bootstrap_host_allowed(ListenerType::Route) && bootstrap_host_allowed(ListenerType::Tlsroute));
        assert!(!bootstrap_host_allowed(ListenerType::Loadbalancer) && !bootstrap_host_allowed(ListenerType::Nodeport));
    }
}
