//! What DR protects and what it does not yet, for the flow the DR records name (source ->
//! target): topics in the mirror's scope missing on the target (with their records and the age
//! of their oldest record), partition counts and failover-relevant topic configs that differ,
//! topics left on the target whose source was deleted (MirrorMaker never mirrors deletions:
//! orphans, not gaps), consumer groups with committed offsets on the source and none on the
//! target yet, and identities whose KafkaUser is missing or differs on either site. Topics
//! outside the scope are listed once as not protected by choice.
//!
//! [`compare`] is pure (tested on fixtures); [`measure`] reads both sites' Kafka.

use crate::kafka::site::{KafkaSite, MirrorFilter, Offsets, TopicConfigValue, Tp};
use crate::profile::MirrorKind;
use crate::settings::SiteId;
use anyhow::Result;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Topic configs that change what clients see after a failover.
pub const FAILOVER_CONFIG_KEYS: [&str; 7] = [
    "retention.ms",
    "retention.bytes",
    "cleanup.policy",
    "max.message.bytes",
    "min.insync.replicas",
    "compression.type",
    "message.timestamp.type",
];

/// Per topic, per key: the value and whether it is set on the topic.
pub type TopicConfigs = BTreeMap<String, BTreeMap<String, TopicConfigValue>>;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MissingTopic {
    pub topic: String,
    pub partitions: i32,
    /// Records on the source that DR does not have at all.
    pub records: i64,
    /// Age of the source's oldest record: how long DR has lacked the topic at least.
    pub oldest_record_age_seconds: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartitionMismatch {
    pub topic: String,
    pub source: i32,
    pub target: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigDrift {
    pub topic: String,
    pub key: String,
    pub source: Option<String>,
    pub target: Option<String>,
    /// Why the mirror left them apart.
    pub why: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupGap {
    pub group: String,
    /// Topics the group has committed offsets on at the source.
    pub topics: Vec<String>,
}

/// An identity whose KafkaUser or password is not what DR needs on a site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IdentityDrift {
    pub user: String,
    pub site: SiteId,
    pub problem: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Coverage {
    pub source: SiteId,
    pub target: SiteId,
    /// Topics in scope on the source.
    pub protected_topics: usize,
    pub missing_topics: Vec<MissingTopic>,
    pub partition_mismatches: Vec<PartitionMismatch>,
    pub config_drift: Vec<ConfigDrift>,
    /// Topics in scope on the target whose source topic is gone (informational).
    pub orphans: Vec<String>,
    pub groups_without_offsets: Vec<GroupGap>,
    pub identities: Vec<IdentityDrift>,
    /// Selected KafkaUsers only the standby has (informational: copies of users deleted on the
    /// primary, or the standby's own).
    pub standby_only_users: Vec<String>,
    /// Topics on the source outside the mirror's scope (informational: excluded by choice).
    pub not_protected: Vec<String>,
    pub notes: Vec<String>,
}

impl Coverage {
    /// How many things DR does not cover now (orphans and topics left out by choice are not).
    pub fn gaps(&self) -> usize {
        self.missing_topics.len()
            + self.partition_mismatches.len()
            + self.config_drift.len()
            + self.groups_without_offsets.len()
            + self.identities.len()
    }

    /// What `serve` exports from the DR record.
    pub fn summary(&self) -> crate::record::CoverageSummary {
        let mut unprotected: BTreeSet<&str> = self.missing_topics.iter().map(|m| m.topic.as_str()).collect();
        unprotected.extend(self.partition_mismatches.iter().filter(|m| m.target < m.source).map(|m| m.topic.as_str()));
        crate::record::CoverageSummary {
            at: crate::record::now_rfc3339(),
            unprotected_topics: unprotected.len(),
            identity_drift: self.identities.len(),
        }
    }

    /// One line per kind of gap, for `status`'s problems.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let (s, t) = (self.source, self.target);
        if !self.missing_topics.is_empty() {
            let names: Vec<String> = self.missing_topics.iter().map(|m| format!("{} ({} records)", m.topic, m.records)).collect();
            out.push(format!("not on site {t}: {} topic(s) of site {s}: {}", names.len(), names.join(", ")));
        }
        if !self.partition_mismatches.is_empty() {
            let names: Vec<String> =
                self.partition_mismatches.iter().map(|m| format!("{} ({} vs {})", m.topic, m.source, m.target)).collect();
            out.push(format!("partition counts differ: {}", names.join(", ")));
        }
        if !self.config_drift.is_empty() {
            let names: Vec<String> = self.config_drift.iter().map(|d| format!("{} {}", d.topic, d.key)).collect();
            out.push(format!("topic configs differ: {}", names.join(", ")));
        }
        if !self.groups_without_offsets.is_empty() {
            let names: Vec<&str> = self.groups_without_offsets.iter().map(|g| g.group.as_str()).collect();
            out.push(format!("consumer groups with no offsets on site {t} yet: {}", names.join(", ")));
        }
        for i in &self.identities {
            out.push(format!("identity {} on site {}: {}", i.user, i.site, i.problem));
        }
        out
    }
}

/// What [`compare`] works on, read from both sites.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    /// Every topic the source shows (partition counts).
    pub source_topics: BTreeMap<String, i32>,
    pub target_topics: BTreeMap<String, i32>,
    /// Start and end offsets on the source of the topics missing on the target.
    pub missing_starts: Offsets,
    pub missing_ends: Offsets,
    /// Timestamp (ms) of the oldest record per missing topic.
    pub missing_oldest_ms: BTreeMap<String, i64>,
    pub source_configs: TopicConfigs,
    pub target_configs: TopicConfigs,
    /// Per group: the source topics it has committed offsets on.
    pub source_groups: BTreeMap<String, BTreeSet<String>>,
    /// Groups the target has a checkpoint or committed offsets for.
    pub target_groups: BTreeSet<String>,
}

/// How the mirror treats topic configs, for the reasons a drift is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MirrorTraits {
    pub kind: MirrorKind,
    /// MirrorMaker 2's `sync.topic.configs.interval.seconds`.
    pub config_sync_seconds: u32,
}

fn why_configs_differ(traits: MirrorTraits, source: Option<&TopicConfigValue>) -> String {
    match traits.kind {
        MirrorKind::KafkaMirrorMaker => {
            "MirrorMaker 1 copies no topic configs: DR created the topic with its broker defaults (`amqdr mirror sync-topics` sets it)"
                .into()
        }
        MirrorKind::KafkaMirrorMaker2 if source.is_some_and(|v| !v.set_on_topic) => {
            "the source inherits its broker default, which MirrorMaker 2 does not copy (use.defaults.from=target): the sites' broker \
             defaults differ"
                .into()
        }
        MirrorKind::KafkaMirrorMaker2 => format!(
            "MirrorMaker 2 copies topic configs every {}s (sync.topic.configs.interval.seconds): not yet, or changed on the target since",
            traits.config_sync_seconds
        ),
    }
}

/// Compare what both sites hold; `now_ms` dates the missing topics' records.
pub fn compare(source: SiteId, target: SiteId, filter: &MirrorFilter, traits: MirrorTraits, observed: &Observed, now_ms: i64) -> Coverage {
    let in_scope = |t: &String| filter.topic(t);
    let source_scoped: BTreeMap<&String, i32> = observed.source_topics.iter().filter(|(t, _)| in_scope(t)).map(|(t, p)| (t, *p)).collect();
    let mut missing_topics = Vec::new();
    let mut partition_mismatches = Vec::new();
    for (topic, partitions) in &source_scoped {
        match observed.target_topics.get(*topic) {
            None => {
                let records = observed
                    .missing_ends
                    .iter()
                    .filter(|((t, _), _)| t == *topic)
                    .map(|(tp, end)| end - observed.missing_starts.get(tp).copied().unwrap_or(0))
                    .sum();
                let oldest = observed.missing_oldest_ms.get(*topic).map(|ts| ((now_ms - ts).max(0) as f64) / 1000.0);
                missing_topics.push(MissingTopic {
                    topic: (*topic).clone(),
                    partitions: *partitions,
                    records,
                    oldest_record_age_seconds: oldest,
                });
            }
            Some(t) if t != partitions => {
                partition_mismatches.push(PartitionMismatch { topic: (*topic).clone(), source: *partitions, target: *t })
            }
            Some(_) => {}
        }
    }
    let mut config_drift = Vec::new();
    for (topic, configs) in &observed.source_configs {
        let Some(target_configs) = observed.target_configs.get(topic) else { continue };
        for key in FAILOVER_CONFIG_KEYS {
            let (s, t) = (configs.get(key), target_configs.get(key));
            let (sv, tv) = (s.and_then(|v| v.value.clone()), t.and_then(|v| v.value.clone()));
            if sv != tv {
                config_drift.push(ConfigDrift {
                    topic: topic.clone(),
                    key: key.into(),
                    source: sv,
                    target: tv,
                    why: why_configs_differ(traits, s),
                });
            }
        }
    }
    let orphans = observed.target_topics.keys().filter(|t| in_scope(t) && !observed.source_topics.contains_key(*t)).cloned().collect();
    let not_protected = observed.source_topics.keys().filter(|t| !filter.scope().includes(t) && !t.starts_with("__")).cloned().collect();
    let mut notes = Vec::new();
    let groups_without_offsets = match traits.kind {
        MirrorKind::KafkaMirrorMaker2 => observed
            .source_groups
            .iter()
            .filter(|(g, topics)| !topics.is_empty() && !observed.target_groups.contains(*g))
            .map(|(g, topics)| GroupGap { group: g.clone(), topics: topics.iter().cloned().collect() })
            .collect(),
        MirrorKind::KafkaMirrorMaker => {
            if !observed.source_groups.is_empty() {
                notes.push(
                    "MirrorMaker 1 syncs no consumer group offsets: a failover moves groups by record timestamps (--offset-margin)".into(),
                );
            }
            Vec::new()
        }
    };
    Coverage {
        source,
        target,
        protected_topics: source_scoped.len(),
        missing_topics,
        partition_mismatches,
        config_drift,
        orphans,
        groups_without_offsets,
        identities: Vec::new(),
        standby_only_users: Vec::new(),
        not_protected,
        notes,
    }
}

/// Read both sites and compare. `checkpoints` are MirrorMaker 2's on the target (group names).
pub fn measure(
    source_site: SiteId,
    target_site: SiteId,
    source: &KafkaSite,
    target: &KafkaSite,
    filter: &MirrorFilter,
    traits: MirrorTraits,
    checkpoint_groups: &BTreeSet<String>,
) -> Result<Coverage> {
    let mut observed = Observed { source_topics: source.all_topics()?, target_topics: target.all_topics()?, ..Observed::default() };
    let scoped: Vec<String> = observed.source_topics.keys().filter(|t| filter.topic(t)).cloned().collect();
    let missing: BTreeMap<String, i32> =
        scoped.iter().filter(|t| !observed.target_topics.contains_key(*t)).map(|t| (t.clone(), observed.source_topics[t])).collect();
    if !missing.is_empty() {
        observed.missing_starts = source.starts(&missing)?;
        observed.missing_ends = source.ends(&missing)?;
        for (tp, end) in &observed.missing_ends {
            let start = observed.missing_starts.get(tp).copied().unwrap_or(0);
            if start < *end
                && let Some(ts) = source.read(tp, start, start + 1)?.first().and_then(|r| r.timestamp)
            {
                let oldest = observed.missing_oldest_ms.entry(tp.0.clone()).or_insert(ts);
                *oldest = (*oldest).min(ts);
            }
        }
    }
    let on_both: Vec<String> = scoped.iter().filter(|t| observed.target_topics.contains_key(*t)).cloned().collect();
    observed.source_configs = source.topic_configs(&on_both)?;
    observed.target_configs = target.topic_configs(&on_both)?;
    let partitions: Vec<Tp> = scoped.iter().flat_map(|t| (0..observed.source_topics[t]).map(move |p| (t.clone(), p))).collect::<Vec<_>>();
    for g in source.groups()?.into_iter().filter(|g| filter.group(&g.name)) {
        let committed = source.committed(&g.name, &partitions)?;
        let topics: BTreeSet<String> = committed.keys().map(|(t, _)| t.clone()).collect();
        if topics.is_empty() {
            continue;
        }
        if traits.kind == MirrorKind::KafkaMirrorMaker2 && !checkpoint_groups.contains(&g.name) {
            let target_parts: Vec<Tp> = partitions.iter().filter(|(t, _)| observed.target_topics.contains_key(t)).cloned().collect();
            if !target.committed(&g.name, &target_parts)?.is_empty() {
                observed.target_groups.insert(g.name.clone());
            }
        }
        observed.source_groups.insert(g.name, topics);
    }
    observed.target_groups.extend(checkpoint_groups.iter().cloned());
    Ok(compare(source_site, target_site, filter, traits, &observed, crate::kafka::clients::now_ms()))
}

/// A KafkaUser's ACLs as a set of single grants, with Strimzi's defaults filled in and
/// `operation` (v1beta2) read like `operations`, so that equal rights compare equal.
pub fn normalised_acls(acls: &serde_json::Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for acl in acls.as_array().into_iter().flatten() {
        let r = &acl["resource"];
        let text = |v: &serde_json::Value, default: &str| v.as_str().unwrap_or(default).to_string();
        let mut ops: Vec<String> =
            acl["operations"].as_array().into_iter().flatten().filter_map(|o| o.as_str().map(String::from)).collect();
        if let Some(op) = acl["operation"].as_str() {
            ops.push(op.into());
        }
        for op in ops {
            out.insert(format!(
                "{} {op} {}:{}:{} from {}",
                text(&acl["type"], "allow"),
                text(&r["type"], "?"),
                text(&r["patternType"], "literal"),
                text(&r["name"], if r["type"] == "cluster" { "kafka-cluster" } else { "" }),
                text(&acl["host"], "*"),
            ));
        }
    }
    out
}

/// amqdr's own identities against what the DR roles say each site should grant (the mirror's
/// rights differ per site by design, so the comparison is with the rendering, not between
/// sites), and their passwords equal on both sites.
pub async fn own_identities(dr: &super::Dr, roles: &crate::record::Roles) -> Result<Vec<IdentityDrift>> {
    use crate::kube::cluster_state::read_secret_value;
    let settings = dr.settings();
    let material = dr.material().await?;
    let posture = crate::plan::Posture::of_roles(roles);
    let mut out = Vec::new();
    let mut passwords: BTreeMap<String, Vec<(SiteId, Option<String>)>> = BTreeMap::new();
    for site in SiteId::ALL {
        let Ok(cluster) = dr.cluster(site) else { continue };
        let ns = &settings.site(site).kafka_namespace;
        for wanted in
            crate::render::user_objects(settings, &material, site, posture.rights(site))?.iter().filter(|m| m.kind() == "KafkaUser")
        {
            let user = wanted.name().to_string();
            match crate::kube::apply::get(cluster, wanted.api_version(), "KafkaUser", Some(ns), &user).await? {
                None => out.push(IdentityDrift {
                    user: user.clone(),
                    site,
                    problem: "its KafkaUser does not exist (run `amqdr install`)".into(),
                }),
                Some(live) => {
                    let want = normalised_acls(&wanted.0["spec"]["authorization"]["acls"]);
                    let have = normalised_acls(&live["spec"]["authorization"]["acls"]);
                    if want != have {
                        out.push(IdentityDrift {
                            user: user.clone(),
                            site,
                            problem: format!(
                                "its ACLs differ from what the DR roles say ({} missing, {} extra; `amqdr install` re-applies them)",
                                want.difference(&have).count(),
                                have.difference(&want).count()
                            ),
                        });
                    }
                }
            }
            if let Some(secret) = wanted.0["spec"]["authentication"]["password"]["valueFrom"]["secretKeyRef"].as_object() {
                let (name, key) = (secret["name"].as_str().unwrap_or_default(), secret["key"].as_str().unwrap_or_default());
                passwords.entry(user).or_default().push((site, read_secret_value(cluster, ns, name, key).await?));
            }
        }
    }
    // Compared in memory only: neither value nor digest is kept or shown.
    for (user, seen) in passwords {
        if let [(_, a), (_, b)] = seen.as_slice()
            && a != b
        {
            out.push(IdentityDrift {
                user,
                site: SiteId::B,
                problem: "its password differs from site a's (a client moved by the GTM could not log in)".into(),
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(pairs: &[(&str, &str, bool)]) -> BTreeMap<String, TopicConfigValue> {
        pairs.iter().map(|(k, v, set)| (k.to_string(), TopicConfigValue { value: Some(v.to_string()), set_on_topic: *set })).collect()
    }

    fn traits(kind: MirrorKind) -> MirrorTraits {
        MirrorTraits { kind, config_sync_seconds: 30 }
    }

    #[test]
    fn a_topic_the_mirror_has_not_copied_is_a_gap_with_its_records_and_age() {
        let filter = MirrorFilter::new(".*", ".*", &["my-mirrormaker-offsets".into()], &[]).unwrap();
        let o = Observed {
            source_topics: BTreeMap::from([("my-topic".into(), 3), ("orders".into(), 3), ("__consumer_offsets".into(), 50)]),
            target_topics: BTreeMap::from([("my-topic".into(), 3), ("gone".into(), 1), ("my-mirrormaker-offsets".into(), 25)]),
            missing_starts: BTreeMap::from([(("orders".into(), 0), 0), (("orders".into(), 1), 10), (("orders".into(), 2), 0)]),
            missing_ends: BTreeMap::from([(("orders".into(), 0), 100), (("orders".into(), 1), 60), (("orders".into(), 2), 50)]),
            missing_oldest_ms: BTreeMap::from([("orders".into(), 1_000)]),
            ..Observed::default()
        };
        let c = compare(SiteId::A, SiteId::B, &filter, traits(MirrorKind::KafkaMirrorMaker2), &o, 76_000);
        assert_eq!(
            c.missing_topics,
            [MissingTopic { topic: "orders".into(), partitions: 3, records: 200, oldest_record_age_seconds: Some(75.0) }]
        );
        assert_eq!(c.orphans, ["gone"]);
        assert_eq!(c.protected_topics, 2);
        assert_eq!(c.gaps(), 1);
        assert!(c.problems()[0].contains("orders (200 records)"), "{:?}", c.problems());
        assert!(c.not_protected.is_empty(), "{:?}", c.not_protected);
    }

    #[test]
    fn partitions_configs_and_groups_are_compared() {
        let filter = MirrorFilter::new(r"my-topic|orders\..*", ".*", &[], &[]).unwrap();
        let o = Observed {
            source_topics: BTreeMap::from([("my-topic".into(), 3), ("orders.eu".into(), 6), ("payments".into(), 1)]),
            target_topics: BTreeMap::from([("my-topic".into(), 3), ("orders.eu".into(), 3)]),
            source_configs: BTreeMap::from([
                ("my-topic".into(), cfg(&[("retention.ms", "3600000", true), ("cleanup.policy", "delete", false)])),
                ("orders.eu".into(), cfg(&[("retention.ms", "604800000", false)])),
            ]),
            target_configs: BTreeMap::from([
                ("my-topic".into(), cfg(&[("retention.ms", "604800000", false), ("cleanup.policy", "delete", false)])),
                ("orders.eu".into(), cfg(&[("retention.ms", "604800000", false)])),
            ]),
            source_groups: BTreeMap::from([
                ("billing".into(), BTreeSet::from(["my-topic".to_string()])),
                ("synced".into(), BTreeSet::from(["my-topic".to_string()])),
            ]),
            target_groups: BTreeSet::from(["synced".to_string()]),
            ..Observed::default()
        };
        let c = compare(SiteId::A, SiteId::B, &filter, traits(MirrorKind::KafkaMirrorMaker2), &o, 0);
        assert_eq!(c.partition_mismatches, [PartitionMismatch { topic: "orders.eu".into(), source: 6, target: 3 }]);
        assert_eq!(c.config_drift.len(), 1);
        assert_eq!((c.config_drift[0].topic.as_str(), c.config_drift[0].key.as_str()), ("my-topic", "retention.ms"));
        assert!(c.config_drift[0].why.contains("every 30s"), "{}", c.config_drift[0].why);
        assert_eq!(c.groups_without_offsets, [GroupGap { group: "billing".into(), topics: vec!["my-topic".into()] }]);
        assert_eq!(c.not_protected, ["payments"]);
        assert_eq!(c.gaps(), 3);
        let v1 = serde_json::json!([{"resource": {"type": "topic", "name": "t"}, "operations": ["Read", "Write"]}]);
        let v1beta2 = serde_json::json!([
            {"type": "allow", "host": "*", "resource": {"type": "topic", "name": "t", "patternType": "literal"}, "operation": "Write"},
            {"resource": {"type": "topic", "name": "t"}, "operations": ["Read"]}
        ]);
        assert_eq!(normalised_acls(&v1), normalised_acls(&v1beta2));
        // MirrorMaker 1 syncs no groups: a note, not a gap; its config drift says why.
        let c = compare(SiteId::A, SiteId::B, &filter, traits(MirrorKind::KafkaMirrorMaker), &o, 0);
        assert!(c.groups_without_offsets.is_empty() && c.notes[0].contains("MirrorMaker 1"));
        assert!(c.config_drift[0].why.contains("MirrorMaker 1 copies no topic configs"));
    }
}
