//! What DR operations read and change on a site's Kafka cluster, through the same connection
//! settings as `verify` (SASL_SSL/SCRAM, TLS verified): the mirrored topics and their end
//! offsets, consumer groups and their committed offsets, records of a partition range, offsets
//! by timestamp, MirrorMaker 2's checkpoints, and recreating a topic empty.
//!
//! All calls block (librdkafka); callers run them on a blocking thread.

use crate::kafka::clients::{self, RunConsumer};
use crate::kafka::connection::ConnectionSettings;
use crate::scope::Scope;
use anyhow::{Context, Result, anyhow, bail};
use rdkafka::admin::{AdminClient, AdminOptions, ConfigSource, NewTopic, ResourceSpecifier, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{CommitMode, Consumer};
use rdkafka::message::{Headers, Message, Timestamp};
use rdkafka::{Offset, TopicPartitionList};
use regex::Regex;
use serde::Serialize;
use std::collections::BTreeMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::time::{Duration, Instant};

/// A topic partition, ordered by topic then partition.
pub type Tp = (String, i32);
/// An offset per topic partition.
pub type Offsets = BTreeMap<Tp, i64>;

/// Which topics and groups the mirror carries, as MirrorMaker decides it.
#[derive(Debug, Clone)]
pub struct MirrorFilter {
    topics: Scope,
    groups: Regex,
    groups_exclude: Regex,
}

impl MirrorFilter {
    /// The topics and groups the settings' mirror carries (its scope), without the mirror's own
    /// and `extra_topics`.
    pub fn of(settings: &crate::settings::Settings, extra_topics: &[&str]) -> Result<MirrorFilter> {
        let internal_groups = vec![settings.mirror_group_id(), format!("{}-connect", settings.mirror.name)];
        MirrorFilter::with_scope(settings.mirror_scope(extra_topics)?, &settings.mirror.groups_pattern, &internal_groups)
    }

    /// `include`/`groups` are the mirror's patterns (Java regular expressions, anchored as
    /// MirrorMaker anchors them); the excludes are MirrorMaker's defaults plus amqdr's own
    /// clients and the mirror's internal topics and groups.
    pub fn new(include: &str, groups: &str, internal_topics: &[String], internal_groups: &[String]) -> Result<Self> {
        let mut excludes: Vec<String> = crate::settings::DEFAULT_TOPICS_EXCLUDE.iter().map(|p| p.to_string()).collect();
        excludes.extend(internal_topics.iter().map(|t| regex::escape(t)));
        Self::with_scope(Scope::new(include, &excludes)?, groups, internal_groups)
    }

    /// The topics of `scope`, the groups of `groups` less MirrorMaker's and amqdr's own.
    pub fn with_scope(scope: Scope, groups: &str, internal_groups: &[String]) -> Result<Self> {
        let anchored = |p: &str| Regex::new(&format!("^(?:{p})$")).with_context(|| format!("pattern {p:?}"));
        let mut group_excludes = vec!["console-consumer-.*".to_string(), "connect-.*".into(), "__.*".into(), "amqdr-.*".into()];
        group_excludes.extend(internal_groups.iter().map(|g| regex::escape(g)));
        Ok(MirrorFilter { topics: scope, groups: anchored(groups)?, groups_exclude: anchored(&group_excludes.join("|"))? })
    }

    pub fn topic(&self, name: &str) -> bool {
        self.topics.covers(name)
    }

    pub fn scope(&self) -> &Scope {
        &self.topics
    }

    pub fn group(&self, name: &str) -> bool {
        self.groups.is_match(name) && !self.groups_exclude.is_match(name)
    }
}

/// One topic config entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TopicConfigValue {
    pub value: Option<String>,
    /// Set on the topic (`DYNAMIC_TOPIC_CONFIG`), not inherited from the broker's defaults.
    pub set_on_topic: bool,
}

/// A consumer group as the cluster describes it.
#[derive(Debug, Clone, Serialize)]
pub struct GroupInfo {
    pub name: String,
    pub state: String,
    pub members: usize,
}

impl GroupInfo {
    /// No member is connected: offsets may be committed for it from outside.
    pub fn is_empty(&self) -> bool {
        self.members == 0
    }
}

/// One record, as much as DR needs to compare and export it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub timestamp: Option<i64>,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub headers: Vec<(String, Option<Vec<u8>>)>,
}

/// MirrorMaker 2's record of a group's position, translated for the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Checkpoint {
    pub upstream: i64,
    pub downstream: i64,
    /// When MirrorMaker wrote it (ms since the epoch).
    pub written_ms: i64,
}

/// A site's Kafka cluster for DR: one consumer for metadata and offsets, one admin client.
pub struct KafkaSite {
    pub conn: ConnectionSettings,
    meta: RunConsumer,
    admin: AdminClient<DefaultClientContext>,
}

impl KafkaSite {
    /// Connect (and check the cluster answers within the connection timeout).
    pub fn connect(conn: &ConnectionSettings) -> Result<KafkaSite> {
        crate::kafka::connection::probe(conn, None)?;
        let (meta, _) = clients::consumer(conn, "amqdr-dr")?;
        let admin = conn.client_config().create().map_err(|e| anyhow!("creating an admin client for site {}: {e}", conn.label))?;
        Ok(KafkaSite { conn: conn.clone(), meta, admin })
    }

    fn timeout(&self) -> Duration {
        self.conn.timeout
    }

    /// Mirrored topics on this site with their partition counts.
    pub fn topics(&self, filter: &MirrorFilter) -> Result<BTreeMap<String, i32>> {
        let md = self.meta.fetch_metadata(None, self.timeout()).with_context(|| format!("listing topics on site {}", self.conn.label))?;
        Ok(md
            .topics()
            .iter()
            .filter(|t| t.error().is_none() && filter.topic(t.name()))
            .map(|t| (t.name().to_string(), t.partitions().len() as i32))
            .collect())
    }

    /// Every topic this site shows its user (those it may Describe), with partition counts.
    pub fn all_topics(&self) -> Result<BTreeMap<String, i32>> {
        let md = self.meta.fetch_metadata(None, self.timeout()).with_context(|| format!("listing topics on site {}", self.conn.label))?;
        Ok(md.topics().iter().filter(|t| t.error().is_none()).map(|t| (t.name().to_string(), t.partitions().len() as i32)).collect())
    }

    /// The configuration of `topics` as the brokers report it: per topic, per key, the value and
    /// whether it is set on the topic itself (not a broker or static default).
    pub fn topic_configs(&self, topics: &[String]) -> Result<BTreeMap<String, BTreeMap<String, TopicConfigValue>>> {
        if topics.is_empty() {
            return Ok(BTreeMap::new());
        }
        let opts = AdminOptions::new().request_timeout(Some(self.timeout()));
        let specs: Vec<ResourceSpecifier<'_>> = topics.iter().map(|t| ResourceSpecifier::Topic(t)).collect();
        let results = futures::executor::block_on(self.admin.describe_configs(specs.iter(), &opts))
            .with_context(|| format!("describing topic configs on site {}", self.conn.label))?;
        let mut out = BTreeMap::new();
        for (topic, result) in topics.iter().zip(results) {
            let resource = result.map_err(|e| anyhow!("describing the configs of {topic} on site {}: {e}", self.conn.label))?;
            let entries = resource
                .entries
                .iter()
                .map(|e| {
                    (e.name.clone(), TopicConfigValue { value: e.value.clone(), set_on_topic: e.source == ConfigSource::DynamicTopic })
                })
                .collect();
            out.insert(topic.clone(), entries);
        }
        Ok(out)
    }

    /// Create `topic` with `partitions`, the broker's default replication factor and `configs`.
    pub fn create_topic(&self, topic: &str, partitions: i32, configs: &[(String, String)]) -> Result<()> {
        let opts = AdminOptions::new().operation_timeout(Some(self.timeout())).request_timeout(Some(self.timeout()));
        // -1: the DR cluster's default.replication.factor, which amqdr sizes to its brokers.
        let mut new = NewTopic::new(topic, partitions, TopicReplication::Fixed(-1));
        for (k, v) in configs {
            new = new.set(k, v);
        }
        match futures::executor::block_on(self.admin.create_topics([&new], &opts))?.remove(0) {
            Ok(_) => Ok(()),
            // The mirror created it meanwhile: the next run aligns it.
            Err((_, rdkafka::types::RDKafkaErrorCode::TopicAlreadyExists)) => Ok(()),
            Err((t, e)) => bail!("creating {t} on site {}: {e}", self.conn.label),
        }
    }

    /// Raise `topic` to `partitions` partitions (Kafka cannot lower them).
    pub fn add_partitions(&self, topic: &str, partitions: i32) -> Result<()> {
        let opts = AdminOptions::new().operation_timeout(Some(self.timeout())).request_timeout(Some(self.timeout()));
        let new = rdkafka::admin::NewPartitions::new(topic, partitions as usize);
        match futures::executor::block_on(self.admin.create_partitions([&new], &opts))?.remove(0) {
            Ok(_) => Ok(()),
            Err((t, e)) => bail!("adding partitions to {t} on site {}: {e}", self.conn.label),
        }
    }

    /// Set `topic`'s topic-level configs to exactly `configs` (AlterConfigs replaces them all,
    /// so the caller passes the ones to keep too).
    pub fn set_topic_configs(&self, topic: &str, configs: &BTreeMap<String, String>) -> Result<()> {
        let opts = AdminOptions::new().request_timeout(Some(self.timeout()));
        let mut alter = rdkafka::admin::AlterConfig::new(ResourceSpecifier::Topic(topic));
        for (k, v) in configs {
            alter = alter.set(k, v);
        }
        match futures::executor::block_on(self.admin.alter_configs([&alter], &opts))?.remove(0) {
            Ok(_) => Ok(()),
            Err((_, e)) => bail!("setting the configs of {topic} on site {}: {e}", self.conn.label),
        }
    }

    /// The named topics that exist on this site, with their partition counts.
    pub fn topics_named<'a>(&self, names: impl IntoIterator<Item = &'a String>) -> Result<BTreeMap<String, i32>> {
        let wanted: std::collections::BTreeSet<&String> = names.into_iter().collect();
        let md = self.meta.fetch_metadata(None, self.timeout()).with_context(|| format!("listing topics on site {}", self.conn.label))?;
        Ok(md
            .topics()
            .iter()
            .filter(|t| t.error().is_none() && wanted.contains(&t.name().to_string()))
            .map(|t| (t.name().to_string(), t.partitions().len() as i32))
            .collect())
    }

    fn list_offsets(&self, topics: &BTreeMap<String, i32>, which: Offset) -> Result<Offsets> {
        let mut tpl = TopicPartitionList::new();
        for (topic, count) in topics {
            for p in 0..*count {
                tpl.add_partition_offset(topic, p, which)?;
            }
        }
        if tpl.count() == 0 {
            return Ok(Offsets::new());
        }
        // ListOffsets with the special timestamps -1 (latest) / -2 (earliest): one request per
        // broker for all partitions, instead of one watermark request per partition. Leadership
        // moves (a restarted broker, a topic just recreated) are retried within the timeout.
        let deadline = Instant::now() + self.timeout();
        let found = loop {
            match self.meta.offsets_for_times(tpl.clone(), self.timeout()) {
                Ok(found) => break found,
                Err(e) if is_leadership_change(&e) && Instant::now() < deadline => std::thread::sleep(Duration::from_millis(250)),
                Err(e) => return Err(e).with_context(|| format!("listing offsets on site {}", self.conn.label)),
            }
        };
        let mut out = Offsets::new();
        for e in found.elements() {
            match e.offset() {
                Offset::Offset(o) => {
                    out.insert((e.topic().to_string(), e.partition()), o);
                }
                other => bail!("site {}: no offset for {}/{} ({other:?}): {:?}", self.conn.label, e.topic(), e.partition(), e.error()),
            }
        }
        Ok(out)
    }

    /// End offset (high watermark) of every partition of `topics`.
    pub fn ends(&self, topics: &BTreeMap<String, i32>) -> Result<Offsets> {
        self.list_offsets(topics, Offset::End)
    }

    /// Log start offset of every partition of `topics`.
    pub fn starts(&self, topics: &BTreeMap<String, i32>) -> Result<Offsets> {
        self.list_offsets(topics, Offset::Beginning)
    }

    /// The first offset at or after `timestamp_ms` per partition (the end when none).
    pub fn offsets_for_time(&self, partitions: &[Tp], timestamp_ms: i64, ends: &Offsets) -> Result<Offsets> {
        let mut tpl = TopicPartitionList::new();
        for (t, p) in partitions {
            tpl.add_partition_offset(t, *p, Offset::Offset(timestamp_ms.max(0)))?;
        }
        let found = self.meta.offsets_for_times(tpl, self.timeout())?;
        Ok(found
            .elements()
            .iter()
            .map(|e| {
                let tp = (e.topic().to_string(), e.partition());
                let offset = match e.offset() {
                    Offset::Offset(o) => o,
                    _ => ends.get(&tp).copied().unwrap_or(0),
                };
                (tp, offset)
            })
            .collect())
    }

    /// Consumer groups of the cluster with their state and member count.
    pub fn groups(&self) -> Result<Vec<GroupInfo>> {
        let list = self
            .meta
            .fetch_group_list(None, self.timeout())
            .with_context(|| format!("listing consumer groups on site {}", self.conn.label))?;
        Ok(list
            .groups()
            .iter()
            .map(|g| GroupInfo { name: g.name().to_string(), state: g.state().to_string(), members: g.members().len() })
            .collect())
    }

    /// A group's committed offsets on `partitions` (absent when it has none).
    pub fn committed(&self, group: &str, partitions: &[Tp]) -> Result<Offsets> {
        if partitions.is_empty() {
            return Ok(Offsets::new());
        }
        let (c, _) = clients::consumer(&self.conn, group)?;
        let mut tpl = TopicPartitionList::new();
        for (t, p) in partitions {
            tpl.add_partition(t, *p);
        }
        let got = c
            .committed_offsets(tpl, self.timeout())
            .with_context(|| format!("reading offsets of group {group} on site {}", self.conn.label))?;
        Ok(got
            .elements()
            .iter()
            .filter_map(|e| match e.offset() {
                Offset::Offset(o) => Some(((e.topic().to_string(), e.partition()), o)),
                _ => None,
            })
            .collect())
    }

    /// Wait until `group` has no members. A MirrorMaker 1 process stopped while this site was
    /// down never left its group: the broker keeps it as a member until its session times out.
    pub fn wait_until_empty(&self, group: &str, timeout: Duration) -> Result<()> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let list = self
                .meta
                .fetch_group_list(Some(group), self.timeout())
                .with_context(|| format!("describing consumer group {group} on site {}", self.conn.label))?;
            let members = list.groups().iter().find(|g| g.name() == group).map_or(0, |g| g.members().len());
            if members == 0 {
                return Ok(());
            }
            if std::time::Instant::now() >= deadline {
                bail!(
                    "consumer group {group} on site {} still has {members} member(s) after {}s: a client still consumes with it \
                     (or the broker has not yet expired the session of one that stopped); stop it and re-run",
                    self.conn.label,
                    timeout.as_secs()
                );
            }
            std::thread::sleep(Duration::from_secs(1));
        }
    }

    /// Commit offsets for a group from outside it. The broker accepts this only while the group
    /// has no members, which is exactly when DR may move it.
    pub fn commit(&self, group: &str, offsets: &Offsets) -> Result<()> {
        if offsets.is_empty() {
            return Ok(());
        }
        let (c, _) = clients::consumer(&self.conn, group)?;
        let mut tpl = TopicPartitionList::new();
        for ((t, p), o) in offsets {
            tpl.add_partition_offset(t, *p, Offset::Offset(*o))?;
        }
        c.commit(&tpl, CommitMode::Sync)
            .with_context(|| format!("committing offsets for group {group} on site {} (is it empty there?)", self.conn.label))
    }

    /// Records `[from, to)` of one partition, in order.
    pub fn read(&self, tp: &Tp, from: i64, to: i64) -> Result<Vec<Record>> {
        let mut out = Vec::new();
        if from >= to {
            return Ok(out);
        }
        let (c, _) = clients::consumer(&self.conn, "amqdr-dr-reader")?;
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(&tp.0, tp.1, Offset::Offset(from))?;
        c.assign(&tpl)?;
        let deadline = Instant::now() + self.timeout().max(Duration::from_secs(30));
        let mut next = from;
        while next < to {
            if Instant::now() > deadline {
                bail!("site {}: reading {}/{} stopped at offset {next} of [{from}, {to}) (timeout)", self.conn.label, tp.0, tp.1);
            }
            match c.poll(Duration::from_millis(200)) {
                Some(Ok(m)) => {
                    if m.offset() >= to {
                        break;
                    }
                    next = m.offset() + 1;
                    out.push(to_record(&m));
                }
                Some(Err(e)) => return Err(anyhow!("site {}: reading {}/{}: {e}", self.conn.label, tp.0, tp.1)),
                None => {}
            }
        }
        Ok(out)
    }

    /// The newest record of a partition before `end` (None when empty).
    pub fn last_record(&self, tp: &Tp, start: i64, end: i64) -> Result<Option<Record>> {
        if end <= start {
            return Ok(None);
        }
        Ok(self.read(tp, end - 1, end)?.pop())
    }

    /// MirrorMaker 2's latest checkpoint per (group, topic, partition) from the checkpoints
    /// topic on the target (`<source alias>.checkpoints.internal`).
    pub fn checkpoints(&self, topic: &str) -> Result<BTreeMap<(String, Tp), Checkpoint>> {
        let mut out = BTreeMap::new();
        let md = self.meta.fetch_metadata(Some(topic), self.timeout())?;
        let Some(t) = md.topics().iter().find(|t| t.name() == topic && t.error().is_none()) else {
            return Ok(out);
        };
        let topics = BTreeMap::from([(topic.to_string(), t.partitions().len() as i32)]);
        let (starts, ends) = (self.starts(&topics)?, self.ends(&topics)?);
        for (tp, end) in &ends {
            for r in self.read(tp, starts[tp], *end)? {
                if let (Some(k), Some(v)) = (&r.key, &r.value)
                    && let Some((group, key_tp, upstream, downstream)) = parse_checkpoint(k, v)
                {
                    out.insert((group, key_tp), Checkpoint { upstream, downstream, written_ms: r.timestamp.unwrap_or(0) });
                }
            }
        }
        Ok(out)
    }

    /// Delete a topic and create it again, empty, with the same partitions, replication factor
    /// and topic-level configuration (Apache Kafka cannot truncate a log's tail).
    pub fn recreate_topic(&self, topic: &str) -> Result<()> {
        let md = self.meta.fetch_metadata(Some(topic), self.timeout())?;
        let t =
            md.topics().iter().find(|t| t.name() == topic).ok_or_else(|| anyhow!("topic {topic} not found on site {}", self.conn.label))?;
        let partitions = t.partitions().len() as i32;
        let replicas = t.partitions().first().map(|p| p.replicas().len() as i32).unwrap_or(1);
        let opts = AdminOptions::new().operation_timeout(Some(self.timeout())).request_timeout(Some(self.timeout()));
        let configs = futures::executor::block_on(self.admin.describe_configs([&ResourceSpecifier::Topic(topic)], &opts))?;
        let mut overrides: Vec<(String, String)> = Vec::new();
        for c in configs {
            let c = c.map_err(|e| anyhow!("describing {topic} on site {}: {e}", self.conn.label))?;
            for e in &c.entries {
                if e.source == ConfigSource::DynamicTopic
                    && let Some(v) = &e.value
                {
                    overrides.push((e.name.clone(), v.clone()));
                }
            }
        }
        for r in futures::executor::block_on(self.admin.delete_topics(&[topic], &opts))? {
            r.map_err(|(t, e)| anyhow!("deleting {t} on site {}: {e}", self.conn.label))?;
        }
        // Deletion completes asynchronously; creating too early fails with TopicAlreadyExists.
        let deadline = Instant::now() + self.timeout().max(Duration::from_secs(30));
        loop {
            let mut new = NewTopic::new(topic, partitions, TopicReplication::Fixed(replicas));
            for (k, v) in &overrides {
                new = new.set(k, v);
            }
            match futures::executor::block_on(self.admin.create_topics([&new], &opts))?.remove(0) {
                Ok(_) => return Ok(()),
                Err((_, code)) if code == rdkafka::types::RDKafkaErrorCode::TopicAlreadyExists && Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(250));
                }
                Err((t, e)) => bail!("creating {t} again on site {}: {e}", self.conn.label),
            }
        }
    }
}

/// A transient error while partition leadership moves.
fn is_leadership_change(e: &rdkafka::error::KafkaError) -> bool {
    use rdkafka::types::RDKafkaErrorCode as Code;
    matches!(
        e.rdkafka_error_code(),
        Some(Code::NotLeaderForPartition | Code::LeaderNotAvailable | Code::NotCoordinator | Code::UnknownTopicOrPartition)
    )
}

fn to_record(m: &rdkafka::message::BorrowedMessage<'_>) -> Record {
    let headers = m.headers().map(|hs| hs.iter().map(|h| (h.key.to_string(), h.value.map(<[u8]>::to_vec))).collect()).unwrap_or_default();
    Record {
        topic: m.topic().to_string(),
        partition: m.partition(),
        offset: m.offset(),
        timestamp: match m.timestamp() {
            Timestamp::CreateTime(t) | Timestamp::LogAppendTime(t) => Some(t),
            Timestamp::NotAvailable => None,
        },
        key: m.key().map(<[u8]>::to_vec),
        value: m.payload().map(<[u8]>::to_vec),
        headers,
    }
}

/// A checkpoint record: key (group STRING, topic STRING, partition INT32), value (version INT16,
/// upstreamOffset INT64, offset INT64, metadata STRING), Kafka's protocol encoding (big-endian,
/// strings with an INT16 length) — org.apache.kafka.connect.mirror.Checkpoint.
/// What identifies a mirrored record on the other site: MirrorMaker (1 and 2) copies key,
/// value, headers and timestamp unchanged; offsets and (for MirrorMaker 1) partitions differ.
pub fn record_identity(r: &Record) -> u64 {
    let mut h = DefaultHasher::new();
    r.key.hash(&mut h);
    r.value.hash(&mut h);
    r.timestamp.hash(&mut h);
    r.headers.hash(&mut h);
    h.finish()
}

pub fn parse_checkpoint(key: &[u8], value: &[u8]) -> Option<(String, Tp, i64, i64)> {
    struct Reader<'a>(&'a [u8]);
    impl Reader<'_> {
        fn take(&mut self, n: usize) -> Option<&[u8]> {
            (self.0.len() >= n).then(|| {
                let (head, rest) = self.0.split_at(n);
                self.0 = rest;
                head
            })
        }
        fn i16(&mut self) -> Option<i16> {
            Some(i16::from_be_bytes(self.take(2)?.try_into().ok()?))
        }
        fn i32(&mut self) -> Option<i32> {
            Some(i32::from_be_bytes(self.take(4)?.try_into().ok()?))
        }
        fn i64(&mut self) -> Option<i64> {
            Some(i64::from_be_bytes(self.take(8)?.try_into().ok()?))
        }
        fn string(&mut self) -> Option<String> {
            let len = usize::try_from(self.i16()?).ok()?;
            String::from_utf8(self.take(len)?.to_vec()).ok()
        }
    }
    let mut k = Reader(key);
    let (group, topic, partition) = (k.string()?, k.string()?, k.i32()?);
    let mut v = Reader(value);
    if v.i16()? != 0 {
        return None;
    }
    let (upstream, downstream) = (v.i64()?, v.i64()?);
    Some((group, (topic, partition), upstream, downstream))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kafka_string(s: &str) -> Vec<u8> {
        let mut v = (s.len() as i16).to_be_bytes().to_vec();
        v.extend_from_slice(s.as_bytes());
        v
    }

    #[test]
    fn checkpoint_records_parse() {
        let mut key = kafka_string("orders-app");
        key.extend(kafka_string("my-topic"));
        key.extend(2i32.to_be_bytes());
        let mut value = 0i16.to_be_bytes().to_vec();
        value.extend(120i64.to_be_bytes());
        value.extend(118i64.to_be_bytes());
        value.extend(kafka_string(""));
        assert_eq!(parse_checkpoint(&key, &value), Some(("orders-app".into(), ("my-topic".into(), 2), 120, 118)));
        assert_eq!(parse_checkpoint(&key[..5], &value), None);
        let mut v1 = value.clone();
        v1[1] = 1;
        assert_eq!(parse_checkpoint(&key, &v1), None, "unknown versions are skipped");
    }

    #[test]
    fn filter_follows_mirrormaker_defaults() {
        let f = MirrorFilter::new(".*", ".*", &["my-mirrormaker-offsets".into()], &["my-mirrormaker-group-id".into()]).unwrap();
        assert!(f.topic("my-topic"));
        assert!(!f.topic("__consumer_offsets"));
        assert!(!f.topic("source.checkpoints.internal"));
        assert!(!f.topic("mm2-offset-syncs.target.internal"));
        assert!(!f.topic("my-mirrormaker-offsets"));
        assert!(f.group("orders-app"));
        assert!(!f.group("connect-my-mirrormaker"));
        assert!(!f.group("my-mirrormaker-group-id"));
        assert!(!f.group("amqdr-verify-1234"));
        let only = MirrorFilter::new("orders\\..*", "app-.*", &[], &[]).unwrap();
        assert!(only.topic("orders.eu") && !only.topic("my-topic") && !only.topic("xorders.eu"));
        assert!(only.group("app-1") && !only.group("other"));
    }
}
