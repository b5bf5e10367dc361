//! The configuration amqdr gives the mirror: the DR defaults of MirrorMaker 2 (identity
//! replication policy, checkpoints with consumer-group offset sync, offset syncs kept in the
//! target) and the MirrorMaker 1 client settings. The KafkaMirrorMaker(2) resources amqdr
//! deploys and the properties the Kafka test bed runs MirrorMaker with are both derived from here.

use crate::mirror::{CONFIG_PROPERTIES_EXCLUDE, IDENTITY_POLICY, SOURCE_ALIAS, TARGET_ALIAS, fold_exclusions};
use crate::settings::Settings;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// MirrorMaker 2 configuration, as the three maps Strimzi's KafkaMirrorMaker2 takes.
#[derive(Debug, Clone, PartialEq)]
pub struct Mm2Config {
    /// Connect worker settings (`spec.target.config`).
    pub connect: BTreeMap<String, Value>,
    pub source_connector: BTreeMap<String, Value>,
    pub checkpoint_connector: BTreeMap<String, Value>,
    pub topics_pattern: String,
    /// MirrorMaker's default exclusions plus the Connect workers' own topics of both
    /// directions: a reverse mirror's worker keeps them on production, where the forward mirror
    /// must not copy them (its worker on DR has topics of the same names).
    pub topics_exclude: String,
    pub groups_pattern: String,
}

/// How often MirrorMaker 2 copies topic configs (`sync.topic.configs.interval.seconds`).
pub fn config_sync_seconds(settings: &Settings) -> u32 {
    settings.mirror.sync_interval_seconds.max(30)
}

fn map(entries: &[(&str, Value)]) -> BTreeMap<String, Value> {
    entries.iter().map(|(k, v)| ((*k).to_string(), v.clone())).collect()
}

fn to_json(m: &BTreeMap<String, Value>) -> Value {
    Value::Object(m.iter().map(|(k, v)| (k.clone(), v.clone())).collect::<Map<_, _>>())
}

impl Mm2Config {
    pub fn from_settings(settings: &Settings) -> Self {
        let interval = settings.mirror.sync_interval_seconds;
        let max_request = settings.mirror_max_request_size();
        // -1: the DR cluster's default.replication.factor, which amqdr sizes to its brokers.
        let rf = json!(-1);
        let shared = [
            ("replication.policy.class", json!(IDENTITY_POLICY)),
            // Offset syncs live in DR, so the mirror needs only read access to production.
            ("offset-syncs.topic.location", json!("target")),
        ];
        let mut source_connector = map(&shared);
        source_connector.extend(map(&[
            ("replication.factor", rf.clone()),
            ("offset-syncs.topic.replication.factor", rf.clone()),
            ("sync.topic.acls.enabled", json!("false")),
            ("sync.topic.configs.enabled", json!("true")),
            // Kafka's default is 10 minutes: a retention changed in production would stay
            // different in DR for that long.
            ("sync.topic.configs.interval.seconds", json!(config_sync_seconds(settings))),
            // MirrorMaker 2 leaves out min.insync.replicas and message.timestamp.type by default
            // (DefaultConfigPropertyFilter); both sites are sized alike (kafka.brokers), and a
            // failover should not change durability or timestamp semantics, so they are copied.
            ("config.properties.exclude", json!(CONFIG_PROPERTIES_EXCLUDE)),
            ("refresh.topics.interval.seconds", json!(interval.max(30))),
            // Small lag between offset syncs keeps translated group offsets close, so
            // consumers re-read few records after failover.
            ("offset.lag.max", json!(10)),
            ("consumer.max.partition.fetch.bytes", json!(max_request)),
            ("consumer.auto.offset.reset", json!("earliest")),
        ]));
        let mut checkpoint_connector = map(&shared);
        checkpoint_connector.extend(map(&[
            ("checkpoints.topic.replication.factor", rf.clone()),
            ("emit.checkpoints.enabled", json!("true")),
            ("emit.checkpoints.interval.seconds", json!(interval)),
            ("sync.group.offsets.enabled", json!("true")),
            ("sync.group.offsets.interval.seconds", json!(interval)),
            ("refresh.groups.interval.seconds", json!(interval.max(30))),
        ]));
        let connect = map(&[
            ("config.storage.replication.factor", rf.clone()),
            ("offset.storage.replication.factor", rf.clone()),
            ("status.storage.replication.factor", rf),
            ("producer.max.request.size", json!(max_request)),
            // Offset syncs are sent when the worker commits source offsets.
            ("offset.flush.interval.ms", json!(u64::from(interval) * 1000)),
        ]);
        Mm2Config {
            connect,
            source_connector,
            checkpoint_connector,
            topics_pattern: settings.mirror_include(),
            topics_exclude: settings.mirror_exclusions().join(","),
            groups_pattern: settings.mirror.groups_pattern.clone(),
        }
    }

    pub fn connect_json(&self) -> Value {
        to_json(&self.connect)
    }
    pub fn source_connector_json(&self) -> Value {
        to_json(&self.source_connector)
    }
    pub fn checkpoint_connector_json(&self) -> Value {
        to_json(&self.checkpoint_connector)
    }

    /// The same configuration for MirrorMaker 2's dedicated mode (`connect-mirror-maker`),
    /// without bootstrap addresses or security, which the caller adds per cluster.
    pub fn dedicated_properties(&self) -> Vec<(String, String)> {
        let flow = format!("{SOURCE_ALIAS}->{TARGET_ALIAS}");
        let reverse = format!("{TARGET_ALIAS}->{SOURCE_ALIAS}");
        let mut out: Vec<(String, String)> = vec![
            ("clusters".into(), format!("{SOURCE_ALIAS}, {TARGET_ALIAS}")),
            (format!("{flow}.enabled"), "true".into()),
            (format!("{flow}.topics"), self.topics_pattern.clone()),
            (format!("{flow}.topics.exclude"), self.topics_exclude.clone()),
            (format!("{flow}.groups"), self.groups_pattern.clone()),
            // One-way only: no echo loop back to production.
            (format!("{reverse}.enabled"), "false".into()),
            (format!("{flow}.emit.heartbeats.enabled"), "false".into()),
        ];
        let scalar = |v: &Value| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let mut connector: BTreeMap<String, Value> = self.source_connector.clone();
        connector.extend(self.checkpoint_connector.clone());
        for (k, v) in &connector {
            out.push((format!("{flow}.{k}"), scalar(v)));
        }
        for (k, v) in &self.connect {
            match k.strip_prefix("producer.") {
                Some(rest) => out.push((format!("{TARGET_ALIAS}.producer.{rest}"), scalar(v))),
                None => out.push((k.clone(), scalar(v))),
            }
        }
        out
    }
}

/// MirrorMaker 1's `include`, with the settings' exclusions folded in.
pub fn mm1_include(settings: &Settings) -> String {
    fold_exclusions(&settings.mirror_include(), &settings.mirror_exclusions())
}

/// MirrorMaker 1 client settings (the seed's KafkaMirrorMaker), shared by the resource and the
/// test bed.
pub fn mm1_consumer_config(settings: &Settings) -> Vec<(String, String)> {
    let max = settings.mirror_max_request_size();
    vec![
        ("group.id".into(), settings.mirror_group_id()),
        ("auto.offset.reset".into(), "earliest".into()),
        ("max.partition.fetch.bytes".into(), max.to_string()),
        ("fetch.max.bytes".into(), max.max(52_428_800).to_string()),
        // The consumer finds topics matching `include` when it refreshes metadata (every 5
        // minutes by default): new production topics start mirroring within the sync interval.
        ("metadata.max.age.ms".into(), (u64::from(settings.mirror.sync_interval_seconds) * 1000).to_string()),
    ]
}

pub fn mm1_producer_config(settings: &Settings) -> Vec<(String, String)> {
    vec![("max.request.size".into(), settings.mirror_max_request_size().to_string()), ("acks".into(), "all".into())]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dr_defaults() {
        let c = Mm2Config::from_settings(&Settings::default());
        for m in [&c.source_connector, &c.checkpoint_connector] {
            assert_eq!(m["replication.policy.class"], json!(IDENTITY_POLICY));
            assert_eq!(m["offset-syncs.topic.location"], json!("target"));
        }
        assert_eq!(c.checkpoint_connector["sync.group.offsets.enabled"], json!("true"));
        assert_eq!(c.checkpoint_connector["sync.group.offsets.interval.seconds"], json!(10));
        assert_eq!(c.connect["producer.max.request.size"], json!(1_048_588));
    }

    #[test]
    fn the_canary_topic_is_always_mirrored() {
        let mut s = Settings::default();
        assert_eq!(Mm2Config::from_settings(&s).topics_pattern, ".*");
        s.mirror.include = r"orders\..*".into();
        let pattern = Mm2Config::from_settings(&s).topics_pattern;
        let re = regex::Regex::new(&format!("^(?:{pattern})$")).unwrap();
        assert!(re.is_match("orders.eu") && re.is_match("amqdr-canary") && !re.is_match("payments"), "{pattern}");
    }

    #[test]
    fn dedicated_properties_are_one_way() {
        let props = Mm2Config::from_settings(&Settings::default()).dedicated_properties();
        let get = |k: &str| props.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
        assert_eq!(get("source->target.enabled").as_deref(), Some("true"));
        assert_eq!(get("target->source.enabled").as_deref(), Some("false"));
        assert_eq!(get("source->target.replication.policy.class").as_deref(), Some(IDENTITY_POLICY));
        assert_eq!(get("target.producer.max.request.size").as_deref(), Some("1048588"));
        assert_eq!(get("source->target.sync.group.offsets.enabled").as_deref(), Some("true"));
    }

    #[test]
    fn mirrormaker_1_include_carries_the_settings_exclusions() {
        assert!(mm1_include(&Settings::default()).starts_with("(?!(?:"));
    }
}
