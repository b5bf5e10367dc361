//! `amqdr serve --site a|b`: the health signal a global traffic manager fails over on, and the
//! DR metrics for Prometheus. A long-running process that probes its site's Kafka every
//! interval ([`probe`]), reads its DR role from the site's `amqdr-dr-state` record, reads the
//! peer site's canaries (its role claims, and the RPO measured by canaries), and answers HTTP
//! from what the last rounds found ([`http`]): a request never waits on Kafka.
//!
//! The verdict rules are pure and tested on their own ([`health`]): flap protection, and the
//! effective role — a site whose record says primary is fenced as soon as the peer's canaries
//! show the peer primary at a higher epoch (an unplanned failover while this site was away).

pub mod canary;
pub mod health;
pub mod http;
pub mod metrics;
pub mod probe;

use crate::error::UsageError;
use crate::kafka::clients::now_ms;
use crate::kafka::connection::{ConnectionInputs, ConnectionSettings};
use crate::kube::client::Cluster;
use crate::record::{Role, STATE_CONFIGMAP, SiteRecord};
use crate::settings::{Settings, SiteId};
use anyhow::{Context, Result};
use canary::{RpoTracker, SkewBounds};
use health::{Decision, HealthTracker, KafkaState, OwnRole, RoleSource};
use metrics::{CheckLabels, Metrics};
use probe::{LagMeter, PeerReader, Prober, Reading, RoundPlan, RoundResult};
use std::collections::{HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// How often the mirror's lag is measured from offsets (it reads records on both sites).
const LAG_EVERY: Duration = Duration::from_secs(15);
/// How often a connection read from the cluster (bootstrap, CA, password) is read again.
const CONNECTION_REFRESH: Duration = Duration::from_secs(60);

/// Everything `serve` needs, without clap.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub site: SiteId,
    pub listen: String,
    pub interval: Duration,
    pub probe_timeout: Duration,
    pub fail_after: u32,
    pub recover_after: u32,
    /// This site's connection inputs (none given: read from its cluster, as `verify` does).
    pub connection: ConnectionInputs,
    /// The other site's bootstrap; it is reached with this site's CA, user and password.
    pub peer_bootstrap: Option<String>,
    pub settings: Settings,
}

/// What the HTTP handlers read; written by the probe loops.
pub struct Shared {
    pub site: SiteId,
    pub metrics: Metrics,
    status: RwLock<Status>,
    observations: Mutex<Observations>,
    /// The highest epoch at which the peer's canaries said it is primary (0: none seen).
    peer_primary_epoch: AtomicU64,
    /// The connection of the last round, for the peer loop.
    connection: Mutex<Option<ConnectionSettings>>,
    /// The peer was read once (or could not be): until then this site cannot know whether the
    /// peer outranks it, and is not routable.
    peer_read: watch::Sender<bool>,
    fail_after: u32,
    recover_after: u32,
}

struct Status {
    rounds: u64,
    tracker: HealthTracker,
    kafka: KafkaState,
    last_failure: Option<String>,
    decision: Decision,
    source: RoleSource,
}

#[derive(Default)]
struct Observations {
    rpo: RpoTracker,
    skew: SkewBounds,
    seen: HashSet<(SiteId, SiteId, String, u64)>,
    order: VecDeque<(SiteId, SiteId, String, u64)>,
}

impl Shared {
    fn new(site: SiteId, fail_after: u32, recover_after: u32) -> Shared {
        Shared {
            site,
            metrics: Metrics::new(site),
            status: RwLock::new(Status {
                rounds: 0,
                tracker: HealthTracker::default(),
                kafka: KafkaState::Unknown,
                last_failure: None,
                decision: Decision { role: None, epoch: 0, routable: false, reason: Some("no probe round yet".into()) },
                source: RoleSource::Unknown { why: "not read yet".into() },
            }),
            observations: Mutex::default(),
            peer_primary_epoch: AtomicU64::new(0),
            connection: Mutex::new(None),
            peer_read: watch::channel(false).0,
            fail_after,
            recover_after,
        }
    }

    /// `/health`: status code and body.
    pub fn health(&self) -> (u16, String) {
        let st = self.status.read().expect("lock");
        health::answer(self.site, &st.kafka, &st.decision, &st.source)
    }

    /// At least one probe round finished.
    pub fn ready(&self) -> bool {
        self.status.read().expect("lock").rounds > 0
    }

    fn peer_claim(&self) -> Option<u64> {
        Some(self.peer_primary_epoch.load(Ordering::Relaxed)).filter(|e| *e > 0)
    }

    fn decision(&self) -> Decision {
        self.status.read().expect("lock").decision.clone()
    }

    /// Canaries read anywhere: replication delays, RPO and skew from mirrored ones, and the
    /// peer's claims to be primary.
    fn observe(&self, reading: Reading) {
        let own = self.site;
        if let Some(max) = reading.claims.iter().max() {
            self.peer_primary_epoch.fetch_max(*max, Ordering::Relaxed);
        }
        let mut obs = self.observations.lock().expect("lock");
        for s in reading.sightings {
            // A reader that starts again reads the last records again: count each canary once.
            let key = (s.canary.site, s.on, s.canary.run.clone(), s.canary.seq);
            if !obs.seen.insert(key.clone()) {
                continue;
            }
            obs.order.push_back(key);
            if obs.order.len() > 10_000
                && let Some(old) = obs.order.pop_front()
            {
                obs.seen.remove(&old);
            }
            if let Some(d) = s.delay_seconds() {
                self.metrics.delay.observe(d.max(0.0));
            }
            obs.rpo.observe(&s);
            obs.skew.observe(&s);
        }
        let skew = obs.skew.detected_seconds();
        let before = self.metrics.skew.get();
        if skew != 0.0 && (before == 0.0 || (skew - before).abs() >= 1.0) {
            tracing::warn!(
                "clock skew between the sites: the receiving site's clock is at least {:.1}s {} the producing site's; replication delays and the RPO on the receiving site are off by as much",
                skew.abs(),
                if skew > 0.0 { "ahead of" } else { "behind" }
            );
        }
        self.metrics.skew.set(skew);
        let decision = self.decision();
        let rpo = match decision.role {
            Some(Role::Primary) if decision.routable => obs.rpo.rpo_seconds(own, own.other(), now_ms()),
            Some(Role::Standby) => obs.rpo.rpo_seconds(own.other(), own, now_ms()),
            _ => None,
        };
        self.metrics.rpo.set(rpo.unwrap_or(f64::NAN));
    }

    /// Fold one round into the status, metrics and log.
    fn apply(&self, result: RoundResult, decision: Decision, source: RoleSource) {
        let site = self.site;
        self.metrics.rounds.inc();
        if let Some((check, _)) = &result.failure {
            self.metrics.failures.get_or_create(&CheckLabels { check }).inc();
        }
        for rt in &result.roundtrips {
            self.metrics.roundtrip.observe(*rt);
        }
        {
            let mut st = self.status.write().expect("lock");
            st.rounds += 1;
            let ok = result.failure.is_none();
            let changed = st.tracker.observe(ok, self.fail_after, self.recover_after);
            match &result.failure {
                Some((_, reason)) => {
                    if st.last_failure.as_deref() != Some(reason.as_str()) {
                        tracing::warn!("site {site}: probe round failed ({} in a row): {reason}", st.tracker.consecutive_failures);
                    }
                    st.last_failure = Some(reason.clone());
                }
                None => {
                    if st.last_failure.take().is_some() {
                        tracing::info!("site {site}: probe round succeeded");
                    }
                }
            }
            st.kafka = match st.tracker.up {
                Some(true) => KafkaState::Up,
                Some(false) => {
                    let reason = match &result.failure {
                        Some((_, r)) => r.clone(),
                        None => format!("recovering: {} of {} good rounds", st.tracker.consecutive_successes, self.recover_after),
                    };
                    KafkaState::Down { reason }
                }
                None => KafkaState::Unknown,
            };
            match changed {
                Some(true) => tracing::info!("site {site} is UP"),
                Some(false) => tracing::warn!(
                    "site {site} is DOWN after {} failed round(s): {}",
                    st.tracker.consecutive_failures,
                    st.last_failure.as_deref().unwrap_or("")
                ),
                None => {}
            }
            if st.decision != decision || st.source.label() != source.label() {
                let role = decision.role.map(Role::as_str).unwrap_or("unknown");
                let why = decision.reason.as_deref().or(source.why()).unwrap_or("");
                tracing::info!(
                    "site {site}: role {role} at epoch {} ({}), {}{}",
                    decision.epoch,
                    source.label(),
                    if decision.routable { "routable" } else { "not routable" },
                    if why.is_empty() { String::new() } else { format!(": {why}") }
                );
            }
            self.metrics.site_up.set(i64::from(st.tracker.up == Some(true)));
            self.metrics.routable.set(i64::from(st.tracker.up == Some(true) && decision.routable));
            self.metrics.set_role(decision.role, decision.epoch);
            st.decision = decision;
            st.source = source;
        }
        self.observe(result.reading);
    }
}

/// This site's DR record, read every round.
struct RoleReader {
    site: SiteId,
    settings: Settings,
    cluster: Result<Cluster, String>,
    last: Option<(Role, u64)>,
    /// DR coverage as `amqdr status` last recorded it in the site's record.
    coverage: Option<crate::record::CoverageSummary>,
    timeout: Duration,
}

impl RoleReader {
    async fn refresh(&mut self) -> OwnRole {
        let cluster = match &self.cluster {
            Ok(c) => c.clone(),
            Err(_) => return OwnRole::install_default(self.site, "no Kubernetes access: install's roles (a primary, b standby)".into()),
        };
        let record = tokio::time::timeout(self.timeout, crate::record::store::read(&cluster, &self.settings, self.site))
            .await
            .unwrap_or_else(|_| SiteRecord::Unreachable { reason: format!("no answer within {:?}", self.timeout) });
        let ns = &self.settings.site(self.site).kafka_namespace;
        match record {
            SiteRecord::Present { state, .. } => {
                self.last = Some((state.role, state.epoch));
                self.coverage = state.coverage.clone();
                OwnRole { role: Some(state.role), epoch: state.epoch, source: RoleSource::Record }
            }
            SiteRecord::Missing => OwnRole::install_default(
                self.site,
                format!("no DR record (ConfigMap {ns}/{STATE_CONFIGMAP}): install's roles (a primary, b standby)"),
            ),
            SiteRecord::Unreachable { reason } | SiteRecord::Invalid { reason } => match self.last {
                Some((role, epoch)) => OwnRole { role: Some(role), epoch, source: RoleSource::Cached { why: reason } },
                None => OwnRole { role: None, epoch: 0, source: RoleSource::Unknown { why: reason } },
            },
        }
    }
}

/// This site's connection: given explicitly, or read from its cluster (again every minute and
/// after a failed round, so a changed password Secret is picked up).
struct ConnectionSource {
    site: SiteId,
    settings: Settings,
    inputs: ConnectionInputs,
    explicit: Option<ConnectionSettings>,
    cluster: Result<Cluster, String>,
    timeout: Duration,
    cached: Option<(ConnectionSettings, Instant)>,
}

impl ConnectionSource {
    async fn current(&mut self, refresh: bool) -> Result<ConnectionSettings> {
        if let Some(c) = &self.explicit {
            return Ok(c.clone());
        }
        if let Some((c, at)) = &self.cached
            && !refresh
            && at.elapsed() < CONNECTION_REFRESH
        {
            return Ok(c.clone());
        }
        let cluster = self.cluster.as_ref().map_err(|why| anyhow::anyhow!("{why}"))?;
        let found = tokio::time::timeout(
            self.timeout.max(Duration::from_secs(5)),
            crate::kafka::from_cluster(&self.settings, self.site, &self.inputs, self.timeout, cluster, crate::acl::Purpose::Application),
        )
        .await
        .map_err(|_| anyhow::anyhow!("reading site {}'s Kafka address and Secrets from {} timed out", self.site, cluster.context))?
        .with_context(|| format!("reading site {}'s Kafka connection from {}", self.site, cluster.context))?;
        self.cached = Some((found.clone(), Instant::now()));
        Ok(found)
    }
}

async fn bind(listen: &str) -> Result<tokio::net::TcpListener> {
    let addr: SocketAddr = listen.parse().map_err(|e| {
        UsageError::new(format!("--listen {listen}: not an address ({e})")).with_hint("use HOST:PORT, e.g. 0.0.0.0:8080 or 127.0.0.1:9090")
    })?;
    tokio::net::TcpListener::bind(addr).await.map_err(|e| {
        let hint = match e.kind() {
            std::io::ErrorKind::AddrInUse => "another process listens there: stop it, or pass another port with --listen",
            std::io::ErrorKind::PermissionDenied => "ports below 1024 need privileges: use a port above 1024",
            _ => "pass an address of this host with --listen",
        };
        UsageError::new(format!("--listen {listen}: cannot listen: {e}")).with_hint(hint).into()
    })
}

/// Run until SIGTERM or Ctrl-C.
pub async fn run(options: ServeOptions) -> Result<()> {
    let site = options.site;
    let settings = options.settings.clone();
    let listener = bind(&options.listen).await?;
    let explicit = options.connection.resolve(site.as_str(), options.probe_timeout)?;
    let cluster = Cluster::connect(settings.site(site).context.as_deref()).await.map_err(|e| crate::error::report(&e));
    if let (None, Err(why)) = (&explicit, &cluster) {
        return Err(UsageError::new(format!(
            "no Kafka connection for site {site}: no bootstrap was given and the cluster cannot be read: {why}"
        ))
        .with_hint(format!(
            "pass --bootstrap (or AMQDR_SITE_{}_BOOTSTRAP) with --ca-file and --password-file, or run where a kubeconfig or in-cluster service account reaches the site",
            site.as_str().to_uppercase()
        ))
        .into());
    }
    if let (Some(_), Err(why)) = (&explicit, &cluster) {
        tracing::info!("no Kubernetes access, so no DR record: acting on install's roles (a primary, b standby): {why}");
    }
    // MirrorMaker 2's `heartbeats` topic is its own, never client data.
    let filter = crate::kafka::site::MirrorFilter::of(&settings, &[settings.canary_topic(), "heartbeats"])?;
    let shared = Arc::new(Shared::new(site, options.fail_after, options.recover_after));
    let addr = listener.local_addr()?;
    tracing::info!(
        "serving site {site} on http://{addr} (/health, /metrics, /livez, /readyz); probing every {:?}, DOWN after {} failed rounds, UP after {} good ones",
        options.interval,
        options.fail_after,
        options.recover_after
    );
    let (stop, stopped) = watch::channel(false);
    let roles = RoleReader {
        site,
        settings: settings.clone(),
        cluster: cluster.clone(),
        last: None,
        coverage: None,
        timeout: options.probe_timeout,
    };
    let connections = ConnectionSource {
        site,
        settings: settings.clone(),
        inputs: options.connection.clone(),
        explicit,
        cluster,
        timeout: options.probe_timeout,
        cached: None,
    };
    let prober = Prober::new(site, settings.canary_topic(), filter.clone(), options.probe_timeout);
    let has_peer = options.peer_bootstrap.is_some();
    tokio::spawn(probe_loop(shared.clone(), prober, roles, connections, options.interval, has_peer, stopped.clone()));
    match &options.peer_bootstrap {
        Some(peer) => {
            let peer_reader = PeerReader::new(site, settings.canary_topic(), options.probe_timeout);
            let lag = LagMeter::new(filter, settings.mirror_kind(), settings.mirror_group_id());
            tokio::spawn(peer_loop(shared.clone(), peer.clone(), peer_reader, lag, options.interval, stopped));
        }
        None => tracing::info!(
            "no peer site (--peer-bootstrap): this site is not fenced by the other's epoch, and the lag is not measured from offsets"
        ),
    }
    axum::serve(listener, http::router(shared)).with_graceful_shutdown(shutdown_signal()).await.context("HTTP server")?;
    let _ = stop.send(true);
    tracing::info!("site {site}: stopped");
    Ok(())
}

async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = term => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

async fn probe_loop(
    shared: Arc<Shared>,
    mut prober: Prober,
    mut roles: RoleReader,
    mut connections: ConnectionSource,
    interval: Duration,
    has_peer: bool,
    mut stopped: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stopped.changed() => return,
        }
        let own = roles.refresh().await;
        shared.metrics.set_coverage(roles.coverage.as_ref());
        let conn = connections.current(failing).await;
        if let Ok(c) = &conn {
            *shared.connection.lock().expect("lock") = Some(c.clone());
        }
        let mut decision = health::decide(shared.site, &own, shared.peer_claim());
        if decision.routable && has_peer && !*shared.peer_read.borrow() {
            // A restarted old primary must not answer 200 before it has looked at the peer.
            let mut read = shared.peer_read.subscribe();
            let _ = tokio::time::timeout(interval.max(Duration::from_secs(1)) * 2, read.wait_for(|done| *done)).await;
            decision = health::decide(shared.site, &own, shared.peer_claim());
            if !*shared.peer_read.borrow() {
                decision.routable = false;
                decision.reason = Some("the peer site has not been read yet: not routable until it is".into());
            }
        }
        let result = match conn {
            Err(e) => RoundResult { failure: Some((metrics::check::CONNECT, crate::error::report(&e))), ..Default::default() },
            Ok(conn) => {
                let plan = RoundPlan { conn, produce: decision.routable.then_some((Role::Primary, decision.epoch)) };
                match tokio::task::spawn_blocking(move || {
                    let r = prober.round(&plan);
                    (prober, r)
                })
                .await
                {
                    Ok((p, r)) => {
                        prober = p;
                        r
                    }
                    Err(e) => {
                        tracing::error!("probe thread failed: {e}");
                        return;
                    }
                }
            }
        };
        failing = result.failure.is_some();
        shared.apply(result, decision, own.source);
    }
}

async fn peer_loop(
    shared: Arc<Shared>,
    peer_bootstrap: String,
    reader: PeerReader,
    lag: LagMeter,
    interval: Duration,
    mut stopped: watch::Receiver<bool>,
) {
    let peer = shared.site.other();
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut state = Some((reader, lag));
    let mut last_lag: Option<Instant> = None;
    let mut lag_topics: Vec<String> = Vec::new();
    let mut last_error: Option<String> = None;
    // The first tick completes at once: read the peer as soon as this site's connection is known.
    tick.tick().await;
    loop {
        // This site's connection (the peer is reached with its CA, user and password).
        let own = loop {
            if let Some(c) = shared.connection.lock().expect("lock").clone() {
                break c;
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                _ = stopped.changed() => return,
            }
        };
        let peer_conn = ConnectionSettings { label: peer.as_str().into(), bootstrap: peer_bootstrap.clone(), ..own.clone() };
        let decision = shared.decision();
        // The flow to measure: from the primary to the standby.
        let flow = match decision.role {
            Some(Role::Primary) if decision.routable => Some((own.clone(), peer_conn.clone())),
            Some(Role::Standby) => Some((peer_conn.clone(), own.clone())),
            _ => None,
        };
        let lag_due = flow.is_some() && last_lag.is_none_or(|t| t.elapsed() >= LAG_EVERY);
        if lag_due {
            last_lag = Some(Instant::now());
        }
        let (mut reader, mut lag) = state.take().expect("peer state");
        let joined = tokio::task::spawn_blocking(move || {
            let reading = reader.poll(&peer_conn);
            let lags = match (lag_due, flow) {
                (true, Some((source, target))) => Some(lag.measure(&source, &target)),
                _ => None,
            };
            (reader, lag, reading, lags)
        })
        .await;
        let Ok((r, l, reading, lags)) = joined else { return };
        state = Some((r, l));
        let first = !*shared.peer_read.borrow();
        match reading {
            Ok(reading) => {
                if last_error.take().is_some() {
                    tracing::info!("site {peer} (peer) is readable again");
                }
                shared.observe(reading);
            }
            Err(e) => {
                let text = crate::error::report(&e);
                if last_error.as_deref() != Some(text.as_str()) {
                    tracing::warn!("reading site {peer}'s canaries (peer): {text}");
                }
                last_error = Some(text);
            }
        }
        if first {
            shared.peer_read.send_replace(true);
        }
        match lags {
            Some(Ok(lags)) => {
                shared.metrics.set_lag(&lags, &lag_topics);
                lag_topics = lags.into_iter().map(|l| l.topic).collect();
            }
            Some(Err(e)) => tracing::debug!("measuring the mirror's lag: {}", crate::error::report(&e)),
            None => {}
        }
        if decision.role.is_none() || (decision.role == Some(Role::Fenced)) {
            shared.metrics.set_lag(&[], &lag_topics);
            lag_topics.clear();
        }
        tokio::select! {
            _ = tick.tick() => {}
            _ = stopped.changed() => return,
        }
    }
}
