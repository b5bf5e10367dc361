//! `amqdr mirror sync-topics`: the standby's topics kept in step with the source's, for the
//! flow the DR records name. MirrorMaker 1 creates a topic on DR with its first record and the
//! DR broker's defaults, and never copies configs or added partitions; MirrorMaker 2 does all of
//! it, but only at its next refresh. This creates every topic in scope the target lacks with the
//! source's partitions and topic configs, raises partition counts, and sets the failover-relevant
//! configs that differ — so that DR holds a topic before its records arrive.

use super::coverage::{FAILOVER_CONFIG_KEYS, TopicConfigs};
use super::{Dr, refuse};
use crate::kafka::blocking;
use crate::kafka::site::{KafkaSite, MirrorFilter};
use crate::settings::SiteId;
use anyhow::Result;
use serde::Serialize;
use std::collections::BTreeMap;

/// Topic configs never copied: per-cluster operational settings (as MirrorMaker 2's
/// `config.properties.exclude` amqdr renders).
const NOT_COPIED: [&str; 4] = [
    "follower.replication.throttled.replicas",
    "leader.replication.throttled.replicas",
    "message.timestamp.difference.max.ms",
    "unclean.leader.election.enable",
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum TopicAction {
    Create {
        topic: String,
        partitions: i32,
        configs: BTreeMap<String, String>,
    },
    AddPartitions {
        topic: String,
        from: i32,
        to: i32,
    },
    /// The target's topic-level configs after the change (AlterConfigs sets them all), and the
    /// keys that change.
    SetConfigs {
        topic: String,
        configs: BTreeMap<String, String>,
        changed: Vec<String>,
    },
}

impl TopicAction {
    pub fn describe(&self) -> String {
        match self {
            TopicAction::Create { topic, partitions, configs } => {
                let c: Vec<String> = configs.iter().map(|(k, v)| format!("{k}={v}")).collect();
                format!(
                    "create {topic} with {partitions} partition(s){}",
                    if c.is_empty() { String::new() } else { format!(", {}", c.join(", ")) }
                )
            }
            TopicAction::AddPartitions { topic, from, to } => format!("raise {topic} from {from} to {to} partitions"),
            TopicAction::SetConfigs { topic, configs, changed } => {
                let c: Vec<String> =
                    changed.iter().map(|k| format!("{k}={}", configs.get(k).map(String::as_str).unwrap_or("(default)"))).collect();
                format!("set {topic} {}", c.join(", "))
            }
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TopicSync {
    pub source: SiteId,
    pub target: SiteId,
    pub dry_run: bool,
    pub topics_in_scope: usize,
    pub actions: Vec<TopicAction>,
}

fn copied(configs: Option<&BTreeMap<String, crate::kafka::site::TopicConfigValue>>) -> BTreeMap<String, String> {
    configs
        .into_iter()
        .flatten()
        .filter(|(k, v)| v.set_on_topic && !NOT_COPIED.contains(&k.as_str()))
        .filter_map(|(k, v)| v.value.clone().map(|v| (k.clone(), v)))
        .collect()
}

/// What the target needs, from both sites' topics (partition counts) and configs.
pub fn plan(
    filter: &MirrorFilter,
    source_topics: &BTreeMap<String, i32>,
    target_topics: &BTreeMap<String, i32>,
    source_configs: &TopicConfigs,
    target_configs: &TopicConfigs,
) -> Vec<TopicAction> {
    let mut out = Vec::new();
    for (topic, partitions) in source_topics.iter().filter(|(t, _)| filter.topic(t)) {
        let Some(on_target) = target_topics.get(topic) else {
            out.push(TopicAction::Create { topic: topic.clone(), partitions: *partitions, configs: copied(source_configs.get(topic)) });
            continue;
        };
        if on_target < partitions {
            out.push(TopicAction::AddPartitions { topic: topic.clone(), from: *on_target, to: *partitions });
        }
        let (Some(source), Some(target)) = (source_configs.get(topic), target_configs.get(topic)) else { continue };
        let mut configs = copied(Some(target));
        let mut changed = Vec::new();
        for key in FAILOVER_CONFIG_KEYS {
            let wanted = source.get(key).and_then(|v| v.value.clone());
            if wanted != target.get(key).and_then(|v| v.value.clone())
                && let Some(value) = wanted
            {
                configs.insert(key.to_string(), value);
                changed.push(key.to_string());
            }
        }
        if !changed.is_empty() {
            out.push(TopicAction::SetConfigs { topic: topic.clone(), configs, changed });
        }
    }
    out
}

fn read_and_plan(source: &KafkaSite, target: &KafkaSite, filter: &MirrorFilter) -> Result<(usize, Vec<TopicAction>)> {
    let source_topics = source.all_topics()?;
    let target_topics = target.all_topics()?;
    let scoped: Vec<String> = source_topics.keys().filter(|t| filter.topic(t)).cloned().collect();
    let on_both: Vec<String> = scoped.iter().filter(|t| target_topics.contains_key(*t)).cloned().collect();
    let source_configs = source.topic_configs(&scoped)?;
    let target_configs = target.topic_configs(&on_both)?;
    Ok((scoped.len(), plan(filter, &source_topics, &target_topics, &source_configs, &target_configs)))
}

fn apply(target: &KafkaSite, action: &TopicAction) -> Result<()> {
    match action {
        TopicAction::Create { topic, partitions, configs } => {
            target.create_topic(topic, *partitions, &configs.iter().map(|(k, v)| (k.clone(), v.clone())).collect::<Vec<_>>())
        }
        TopicAction::AddPartitions { topic, to, .. } => target.add_partitions(topic, *to),
        TopicAction::SetConfigs { topic, configs, .. } => target.set_topic_configs(topic, configs),
    }
}

/// Bring the flowing direction's target in step with its source (`dry_run`: only list).
pub async fn sync(dr: &Dr, dry_run: bool) -> Result<TopicSync> {
    let roles = dr.sites.roles().await;
    let direction = [&roles.a, &roles.b]
        .iter()
        .filter_map(|r| r.state())
        .max_by_key(|s| (s.epoch, s.role == crate::record::Role::Primary))
        .map(|s| s.mirror)
        .unwrap_or(crate::record::Direction::AToB);
    let Some((source_site, target_site)) = direction.sites() else {
        return Err(refuse(
            "no mirror flows now (the DR records say none): there is no standby to keep in step",
            "run it again once `amqdr failback sync` started the reverse mirror, or after `amqdr failback switch`",
        ));
    };
    let (source, target) = (dr.kafka(source_site).await?, dr.kafka(target_site).await?);
    let filter = dr.filter.clone();
    blocking(move || {
        let (in_scope, actions) = read_and_plan(&source, &target, &filter)?;
        if !dry_run {
            for a in &actions {
                apply(&target, a)?;
                eprintln!("[sync-topics] site {target_site}: {}", a.describe());
            }
        }
        Ok(TopicSync { source: source_site, target: target_site, dry_run, topics_in_scope: in_scope, actions })
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kafka::site::TopicConfigValue;

    fn cfg(pairs: &[(&str, &str, bool)]) -> BTreeMap<String, TopicConfigValue> {
        pairs.iter().map(|(k, v, set)| (k.to_string(), TopicConfigValue { value: Some(v.to_string()), set_on_topic: *set })).collect()
    }

    #[test]
    fn the_target_gets_what_the_source_has() {
        let filter = MirrorFilter::new(".*", ".*", &[], &[]).unwrap();
        let source_topics =
            BTreeMap::from([("orders".to_string(), 6), ("my-topic".into(), 3), ("new".into(), 2), ("__consumer_offsets".into(), 50)]);
        let target_topics = BTreeMap::from([("orders".to_string(), 3), ("my-topic".into(), 3)]);
        let source_configs = BTreeMap::from([
            (
                "new".to_string(),
                cfg(&[
                    ("retention.ms", "3600000", true),
                    ("unclean.leader.election.enable", "true", true),
                    ("cleanup.policy", "delete", false),
                ]),
            ),
            ("my-topic".into(), cfg(&[("retention.ms", "3600000", true), ("segment.bytes", "1048576", true)])),
            ("orders".into(), cfg(&[("retention.ms", "604800000", false)])),
        ]);
        let target_configs = BTreeMap::from([
            ("my-topic".to_string(), cfg(&[("retention.ms", "604800000", false), ("segment.bytes", "2097152", true)])),
            ("orders".into(), cfg(&[("retention.ms", "604800000", false)])),
        ]);
        let actions = plan(&filter, &source_topics, &target_topics, &source_configs, &target_configs);
        assert_eq!(
            actions,
            [
                TopicAction::SetConfigs {
                    topic: "my-topic".into(),
                    // The target's own topic configs are kept: AlterConfigs replaces them all.
                    configs: BTreeMap::from([("retention.ms".into(), "3600000".into()), ("segment.bytes".into(), "2097152".into())]),
                    changed: vec!["retention.ms".into()],
                },
                TopicAction::Create {
                    topic: "new".into(),
                    partitions: 2,
                    configs: BTreeMap::from([("retention.ms".into(), "3600000".into())]),
                },
                TopicAction::AddPartitions { topic: "orders".into(), from: 3, to: 6 },
            ]
        );
        assert_eq!(actions[1].describe(), "create new with 2 partition(s), retention.ms=3600000");
    }
}
