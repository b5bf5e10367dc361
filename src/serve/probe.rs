//! The Kafka side of `serve`, all blocking (librdkafka; the caller runs it on a blocking
//! thread): a probe round on this site, reading the peer's canary topic, and the mirror's lag.
//!
//! A round on this site is: metadata (every mirrored topic and the canary topic have a leader
//! for each partition and at least `min.insync.replicas` in sync), then on a routable primary one
//! canary per canary partition produced with acks=all and consumed back within the probe
//! timeout; elsewhere the canary partitions' offsets are read (a standby must not write). Every
//! canary read is handed back: the caller turns them into round trips, mirror sightings and the
//! peer's role claims. Clients live across rounds (an idle site costs no handshakes) and are
//! made anew after a failed round or a change of connection settings.

use super::canary::{Canary, Sighting};
use super::metrics::check;
use crate::kafka::clients::{describe_produce_error, now_ms};
use crate::kafka::connection::{ConnectionSettings, classify};
use crate::kafka::lag::{self, TopicLag};
use crate::kafka::site::{KafkaSite, MirrorFilter};
use crate::profile::MirrorKind;
use crate::record::Role;
use crate::settings::SiteId;
use anyhow::{Result, anyhow};
use rdkafka::admin::{AdminClient, AdminOptions, ResourceSpecifier};
use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::KafkaError;
use rdkafka::message::{BorrowedMessage, Message, Timestamp};
use rdkafka::metadata::Metadata;
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, ProducerContext};
use rdkafka::{Offset, TopicPartitionList};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Records read back per canary partition when a reader starts: the newest canaries already
/// there (so the RPO is known at once after a restart of `serve`).
const START_BACK: i64 = 20;
/// How long a topic's `min.insync.replicas` is trusted before it is read again.
const MIN_ISR_TTL: Duration = Duration::from_secs(300);

/// librdkafka's recent log and error lines of one set of clients (to say why a call failed),
/// and the producer's delivery reports.
#[derive(Clone, Default)]
pub struct ProbeContext {
    lines: Arc<Mutex<VecDeque<String>>>,
    deliveries: Deliveries,
}

/// Delivery reports: the canary's sequence number and the outcome.
type Deliveries = Arc<Mutex<Vec<(u64, Result<(), String>)>>>;

impl ProbeContext {
    fn push(&self, line: String) {
        let mut l = self.lines.lock().expect("lock");
        if l.len() >= 100 {
            l.pop_front();
        }
        l.push_back(line);
    }

    fn text(&self) -> String {
        self.lines.lock().expect("lock").iter().cloned().collect::<Vec<_>>().join("\n")
    }

    fn clear(&self) {
        self.lines.lock().expect("lock").clear();
        self.deliveries.lock().expect("lock").clear();
    }
}

impl ClientContext for ProbeContext {
    fn log(&self, _level: RDKafkaLogLevel, fac: &str, message: &str) {
        self.push(format!("{fac}: {message}"));
    }

    fn error(&self, error: KafkaError, reason: &str) {
        self.push(format!("{error}: {reason}"));
    }
}

impl ConsumerContext for ProbeContext {}

impl ProducerContext for ProbeContext {
    type DeliveryOpaque = Box<u64>;

    fn delivery(&self, result: &DeliveryResult<'_>, seq: Self::DeliveryOpaque) {
        let outcome = result.as_ref().map(|_| ()).map_err(|(e, _)| describe_produce_error(e));
        self.deliveries.lock().expect("lock").push((*seq, outcome));
    }
}

/// What identifies a connection: a change means new clients.
type ConnectionKey = (String, String, String, Option<std::path::PathBuf>, Option<String>);

fn connection_key(c: &ConnectionSettings) -> ConnectionKey {
    (c.bootstrap.clone(), c.user.clone(), c.password.clone(), c.ca_file.clone(), c.ca_pem.clone())
}

type ProbeConsumer = BaseConsumer<ProbeContext>;

fn reader(conn: &ConnectionSettings, ctx: &ProbeContext, site: SiteId) -> Result<ProbeConsumer> {
    conn.client_config()
        .set("group.id", format!("amqdr-serve-{site}"))
        .set("client.id", format!("amqdr-serve-{}", conn.label))
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "false")
        .set("auto.offset.reset", "latest")
        // An idle fetch waits this long on the broker; new records end it at once, so round trips
        // are not delayed, and an idle site costs two fetches a second.
        .set("fetch.wait.max.ms", "500")
        .create_with_context(ctx.clone())
        .map_err(|e| anyhow!("creating a consumer for site {}: {e}", conn.label))
}

/// Assign every partition of `topic` to `consumer`, a few records before the end; returns the
/// end offset of each partition that has records there.
fn assign_tail(consumer: &ProbeConsumer, topic: &str, partitions: i32, timeout: Duration) -> Result<HashMap<i32, i64>> {
    let mut tpl = TopicPartitionList::new();
    let mut ends = HashMap::new();
    for p in 0..partitions {
        let (low, high) = consumer.fetch_watermarks(topic, p, timeout)?;
        let from = (high - START_BACK).max(low);
        tpl.add_partition_offset(topic, p, Offset::Offset(from))?;
        if high > from {
            ends.insert(p, high);
        }
    }
    consumer.assign(&tpl)?;
    Ok(ends)
}

fn partitions_of(md: &Metadata, topic: &str) -> i32 {
    md.topics().iter().find(|t| t.name() == topic && t.error().is_none()).map(|t| t.partitions().len() as i32).unwrap_or(0)
}

/// A canary topic record as read on `on` by the `serve` of `reader`.
fn sighting(m: &BorrowedMessage<'_>, on: SiteId, reader: SiteId) -> Option<(Canary, Sighting)> {
    let canary = Canary::decode(m.payload()?)?;
    let appended_ms = match m.timestamp() {
        Timestamp::LogAppendTime(t) => Some(t),
        _ => None,
    };
    let s = Sighting { canary: canary.clone(), on, appended_ms, read_ms: now_ms(), reader };
    Some((canary, s))
}

/// Canaries read in a round, sorted by what they tell.
#[derive(Debug, Default)]
pub struct Reading {
    /// Canaries mirrored into the site they were read on.
    pub sightings: Vec<Sighting>,
    /// Epochs at which the other site's canaries said it is primary.
    pub claims: Vec<u64>,
}

impl Reading {
    fn add(&mut self, canary: &Canary, s: Sighting, own_site: SiteId) {
        if canary.site != own_site && canary.role == Role::Primary {
            self.claims.push(canary.epoch);
        }
        if canary.site != s.on {
            self.sightings.push(s);
        }
    }
}

/// The result of one round on this site.
#[derive(Debug, Default)]
pub struct RoundResult {
    /// The first failed check and everything found wrong; None when the site is healthy.
    pub failure: Option<(&'static str, String)>,
    /// Canary round trips of this round, seconds.
    pub roundtrips: Vec<f64>,
    pub reading: Reading,
}

impl RoundResult {
    fn fail(&mut self, which: &'static str, reason: String) {
        match &mut self.failure {
            None => self.failure = Some((which, reason)),
            Some((_, text)) => {
                text.push_str("; ");
                text.push_str(&reason);
            }
        }
    }
}

/// What a round should do besides checking.
#[derive(Debug, Clone)]
pub struct RoundPlan {
    pub conn: ConnectionSettings,
    /// Produce canaries stamped with this role and epoch (routable primary only).
    pub produce: Option<(Role, u64)>,
}

struct Clients {
    key: ConnectionKey,
    conn: ConnectionSettings,
    ctx: ProbeContext,
    reader: ProbeConsumer,
    assigned: i32,
    producer: Option<BaseProducer<ProbeContext>>,
    admin: AdminClient<ProbeContext>,
}

/// Probes this site, round after round.
pub struct Prober {
    site: SiteId,
    canary_topic: String,
    filter: MirrorFilter,
    timeout: Duration,
    run: String,
    seq: u64,
    clients: Option<Clients>,
    min_isr: HashMap<String, (usize, Instant)>,
}

impl Prober {
    pub fn new(site: SiteId, canary_topic: &str, filter: MirrorFilter, timeout: Duration) -> Prober {
        Prober {
            site,
            canary_topic: canary_topic.into(),
            filter,
            timeout,
            run: crate::kafka::clients::run_id(),
            seq: 0,
            clients: None,
            min_isr: HashMap::new(),
        }
    }

    fn clients(&mut self, conn: &ConnectionSettings) -> Result<&mut Clients> {
        let key = connection_key(conn);
        if self.clients.as_ref().is_some_and(|c| c.key != key) {
            self.clients = None;
        }
        if self.clients.is_none() {
            let ctx = ProbeContext::default();
            let reader = reader(conn, &ctx, self.site)?;
            let admin = conn
                .client_config()
                .create_with_context(ctx.clone())
                .map_err(|e| anyhow!("creating an admin client for site {}: {e}", conn.label))?;
            self.clients = Some(Clients { key, conn: conn.clone(), ctx, reader, assigned: 0, producer: None, admin });
        }
        Ok(self.clients.as_mut().expect("just set"))
    }

    /// One probe round, bounded by the probe timeout.
    pub fn round(&mut self, plan: &RoundPlan) -> RoundResult {
        let mut out = RoundResult::default();
        let deadline = Instant::now() + self.timeout;
        if let Err(e) = self.round_inner(plan, deadline, &mut out) {
            let reason = match self.clients.as_ref() {
                Some(c) => {
                    // librdkafka hands errors to the application when it polls.
                    let _ = c.reader.poll(Duration::from_millis(50));
                    classify(&c.conn, &c.ctx.text(), &format!("{e:#}")).to_string()
                }
                None => format!("{e:#}"),
            };
            out.fail(check::CONNECT, reason);
        }
        if out.failure.is_some() {
            // Fresh clients next round: nothing stale queued, and a new connection attempt.
            self.clients = None;
        }
        out
    }

    fn round_inner(&mut self, plan: &RoundPlan, deadline: Instant, out: &mut RoundResult) -> Result<()> {
        let site = self.site;
        let topic = self.canary_topic.clone();
        let timeout = self.timeout;
        let clients = self.clients(&plan.conn)?;
        clients.ctx.clear();
        let md = clients.reader.fetch_metadata(None, remaining(deadline))?;
        let partitions = partitions_of(&md, &topic);
        if partitions == 0 {
            out.fail(
                check::METADATA,
                format!(
                    "canary topic {topic} does not exist on site {site}\n  fix: run `amqdr install` (it creates KafkaTopic {topic} on both sites)"
                ),
            );
            return Ok(());
        }
        if clients.assigned != partitions {
            assign_tail(&clients.reader, &topic, partitions, remaining(deadline))?;
            clients.assigned = partitions;
        }
        let problems = self.partition_problems(&md);
        if !problems.is_empty() {
            out.fail(check::METADATA, problems.join("; "));
        }
        match plan.produce {
            Some((role, epoch)) => self.canary_round_trip(role, epoch, partitions, deadline, out),
            None => {
                let clients = self.clients.as_mut().expect("clients");
                // A standby is checked by reading: each canary partition's leader answers.
                for p in 0..partitions {
                    clients.reader.fetch_watermarks(&topic, p, remaining(deadline).min(timeout))?;
                }
                self.drain(out);
                Ok(())
            }
        }
    }

    /// Read what the canary reader has fetched, without waiting.
    fn drain(&mut self, out: &mut RoundResult) {
        let Some(clients) = self.clients.as_ref() else { return };
        for _ in 0..10_000 {
            match clients.reader.poll(Duration::ZERO) {
                Some(Ok(m)) => {
                    if let Some((canary, s)) = sighting(&m, self.site, self.site) {
                        out.reading.add(&canary, s, self.site);
                    }
                }
                Some(Err(_)) => {}
                None => break,
            }
        }
    }

    fn canary_round_trip(&mut self, role: Role, epoch: u64, partitions: i32, deadline: Instant, out: &mut RoundResult) -> Result<()> {
        let (site, topic, run) = (self.site, self.canary_topic.clone(), self.run.clone());
        let first_seq = self.seq;
        self.seq += partitions as u64;
        let clients = self.clients.as_mut().expect("clients");
        if clients.producer.is_none() {
            let producer: BaseProducer<ProbeContext> = clients
                .conn
                .client_config()
                .set("client.id", format!("amqdr-serve-{}", clients.conn.label))
                .set("acks", "all")
                .set("enable.idempotence", "true")
                .set("linger.ms", "0")
                .set("message.timeout.ms", self.timeout.as_millis().max(1000).to_string())
                .create_with_context(clients.ctx.clone())
                .map_err(|e| anyhow!("creating a producer for site {}: {e}", clients.conn.label))?;
            clients.producer = Some(producer);
        }
        let producer = clients.producer.as_ref().expect("producer");
        let mut sent: HashMap<u64, (i32, Instant)> = HashMap::new();
        for p in 0..partitions {
            let seq = first_seq + p as u64;
            let value = Canary::new(site, role, epoch, now_ms(), &run, seq, p).encode();
            let key = format!("{site}-{p}");
            let record = BaseRecord::with_opaque_to(&topic, Box::new(seq)).partition(p).key(&key).payload(&value).timestamp(now_ms());
            if let Err((e, _)) = producer.send(record) {
                out.fail(check::CANARY, format!("producing a canary to {topic}/{p} on site {site}: {}", describe_produce_error(&e)));
                return Ok(());
            }
            sent.insert(seq, (p, Instant::now()));
        }
        while clients.ctx.deliveries.lock().expect("lock").len() < sent.len() && Instant::now() < deadline {
            producer.poll(Duration::from_millis(5));
        }
        let deliveries = clients.ctx.deliveries.lock().expect("lock").clone();
        if deliveries.len() < sent.len() {
            let detail = format!("{} of {} canaries not acknowledged within {:?}", sent.len() - deliveries.len(), sent.len(), self.timeout);
            out.fail(check::CANARY, classify(&clients.conn, &clients.ctx.text(), &detail).to_string());
            return Ok(());
        }
        if let Some((seq, Err(why))) = deliveries.iter().find(|(_, r)| r.is_err()) {
            let p = sent.get(seq).map(|(p, _)| *p).unwrap_or(-1);
            let reason = if why.contains("timed out") {
                classify(&clients.conn, &clients.ctx.text(), why).to_string()
            } else {
                format!("canary to {topic}/{p} on site {site} failed: {why}")
            };
            out.fail(check::CANARY, reason);
            return Ok(());
        }
        // Consumed back: the records this round produced, as any client would read them.
        while !sent.is_empty() && Instant::now() < deadline {
            if let Some(Ok(m)) = clients.reader.poll(remaining(deadline).min(Duration::from_millis(100)))
                && let Some((canary, s)) = sighting(&m, site, site)
            {
                if canary.run == run
                    && let Some((_, at)) = sent.remove(&canary.seq)
                {
                    out.roundtrips.push(at.elapsed().as_secs_f64());
                }
                out.reading.add(&canary, s, site);
            }
        }
        if !sent.is_empty() {
            let mut missing: Vec<i32> = sent.values().map(|(p, _)| *p).collect();
            missing.sort();
            out.fail(
                check::CANARY,
                format!("canaries of {topic} partitions {missing:?} were acknowledged but not consumed back within {:?}", self.timeout),
            );
        }
        self.drain(out);
        Ok(())
    }

    /// Leaderless partitions and partitions with fewer in-sync replicas than min.insync.replicas,
    /// on the mirrored topics and the canary topic.
    fn partition_problems(&mut self, md: &Metadata) -> Vec<String> {
        let mut problems = Vec::new();
        let watched: Vec<_> =
            md.topics().iter().filter(|t| t.error().is_none() && (t.name() == self.canary_topic || self.filter.topic(t.name()))).collect();
        let stale: Vec<String> = watched
            .iter()
            .map(|t| t.name().to_string())
            .filter(|t| self.min_isr.get(t).is_none_or(|(_, at)| at.elapsed() > MIN_ISR_TTL))
            .collect();
        if !stale.is_empty() {
            self.read_min_isr(&stale);
        }
        for t in watched {
            let leaderless: Vec<i32> = t.partitions().iter().filter(|p| p.leader() < 0).map(|p| p.id()).collect();
            if !leaderless.is_empty() {
                problems.push(format!("{} partitions {leaderless:?} have no leader", t.name()));
            }
            if let Some((min, _)) = self.min_isr.get(t.name()) {
                let under: Vec<String> = t
                    .partitions()
                    .iter()
                    .filter(|p| p.leader() >= 0 && p.isr().len() < *min)
                    .map(|p| format!("{}/{} ({} in sync)", t.name(), p.id(), p.isr().len()))
                    .collect();
                if !under.is_empty() {
                    problems.push(format!("under min.insync.replicas {min}: {}", under.join(", ")));
                }
            }
        }
        problems
    }

    fn read_min_isr(&mut self, topics: &[String]) {
        let Some(clients) = self.clients.as_ref() else { return };
        let opts = AdminOptions::new().request_timeout(Some(self.timeout));
        let specs: Vec<ResourceSpecifier> = topics.iter().map(|t| ResourceSpecifier::Topic(t)).collect();
        let Ok(results) = futures::executor::block_on(clients.admin.describe_configs(&specs, &opts)) else { return };
        for r in results.into_iter().flatten() {
            if let (rdkafka::admin::OwnedResourceSpecifier::Topic(t), Some(v)) = (&r.specifier, r.get("min.insync.replicas"))
                && let Some(n) = v.value.as_deref().and_then(|n| n.parse().ok())
            {
                self.min_isr.insert(t.clone(), (n, Instant::now()));
            }
        }
    }
}

fn remaining(deadline: Instant) -> Duration {
    deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(1))
}

/// Reads the peer site's canary topic: its primary claims, and our canaries mirrored there.
pub struct PeerReader {
    own: SiteId,
    canary_topic: String,
    timeout: Duration,
    current: Option<(ConnectionKey, ProbeContext, ProbeConsumer)>,
}

impl PeerReader {
    pub fn new(own: SiteId, canary_topic: &str, timeout: Duration) -> PeerReader {
        PeerReader { own, canary_topic: canary_topic.into(), timeout, current: None }
    }

    /// What arrived since the last call; an error when the peer cannot be read (it may be down,
    /// which does not concern this site's health).
    pub fn poll(&mut self, conn: &ConnectionSettings) -> Result<Reading> {
        let key = connection_key(conn);
        if self.current.as_ref().is_some_and(|(k, _, _)| *k != key) {
            self.current = None;
        }
        if self.current.is_none() {
            let ctx = ProbeContext::default();
            let consumer = reader(conn, &ctx, self.own)?;
            let found = consumer.fetch_metadata(Some(&self.canary_topic), self.timeout).map(|md| partitions_of(&md, &self.canary_topic));
            let partitions = match found {
                Ok(n) if n > 0 => n,
                Ok(_) => return Err(anyhow!("canary topic {} does not exist on site {}", self.canary_topic, conn.label)),
                Err(e) => {
                    let _ = consumer.poll(Duration::from_millis(50));
                    return Err(classify(conn, &ctx.text(), &e.to_string()).into());
                }
            };
            // The first read goes up to the end offsets of now: what the peer said last (its
            // role claims) must be known before this site may be routable.
            let mut catch_up = assign_tail(&consumer, &self.canary_topic, partitions, self.timeout)?;
            let peer = self.own.other();
            let mut reading = Reading::default();
            let deadline = Instant::now() + self.timeout;
            while !catch_up.is_empty() && Instant::now() < deadline {
                if let Some(Ok(m)) = consumer.poll(remaining(deadline).min(Duration::from_millis(100))) {
                    if catch_up.get(&m.partition()).is_some_and(|end| m.offset() + 1 >= *end) {
                        catch_up.remove(&m.partition());
                    }
                    if let Some((canary, s)) = sighting(&m, peer, self.own) {
                        reading.add(&canary, s, self.own);
                    }
                }
            }
            if !catch_up.is_empty() {
                return Err(anyhow!("site {}'s canary topic was not read up to its end within {:?}", conn.label, self.timeout));
            }
            self.current = Some((key, ctx, consumer));
            return Ok(reading);
        }
        let (_, _, consumer) = self.current.as_ref().expect("set");
        let peer = self.own.other();
        let mut reading = Reading::default();
        for _ in 0..10_000 {
            match consumer.poll(Duration::ZERO) {
                Some(Ok(m)) => {
                    if let Some((canary, s)) = sighting(&m, peer, self.own) {
                        reading.add(&canary, s, self.own);
                    }
                }
                Some(Err(_)) => {}
                None => break,
            }
        }
        Ok(reading)
    }
}

/// The mirror's lag from offsets, as `verify lag` and the DR status compute it.
pub struct LagMeter {
    filter: MirrorFilter,
    kind: MirrorKind,
    mm1_group: String,
    sites: BTreeMap<ConnectionKey, Arc<KafkaSite>>,
}

impl LagMeter {
    pub fn new(filter: MirrorFilter, kind: MirrorKind, mm1_group: String) -> LagMeter {
        LagMeter { filter, kind, mm1_group, sites: BTreeMap::new() }
    }

    fn site(&mut self, conn: &ConnectionSettings) -> Result<Arc<KafkaSite>> {
        let key = connection_key(conn);
        if let Some(s) = self.sites.get(&key) {
            return Ok(s.clone());
        }
        let s = Arc::new(KafkaSite::connect(conn)?);
        self.sites.insert(key, s.clone());
        Ok(s)
    }

    /// Lag per mirrored topic of the flow `source` -> `target`.
    pub fn measure(&mut self, source: &ConnectionSettings, target: &ConnectionSettings) -> Result<Vec<TopicLag>> {
        let result = (|| {
            let (s, t) = (self.site(source)?, self.site(target)?);
            let topics = s.topics(&self.filter)?;
            let parts = lag::measure(&s, &t, &topics, self.kind, &self.mm1_group)?;
            Ok(lag::per_topic(&parts))
        })();
        if result.is_err() {
            self.sites.clear();
        }
        result
    }
}
