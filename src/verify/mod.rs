//! `amqdr verify`: real Kafka clients (librdkafka over SASL_SSL/SCRAM-SHA-512) against the
//! sites — produce/consume, mirror, perf, lag, latency, failover — with a table, JSON or JUnit
//! report. Exit code 3 when a check ran and failed.

pub mod checks;
pub mod perf;
pub mod report;

use crate::error::{CheckFailed, UsageError};
use crate::kafka::connection::{ConnectionInputs, ConnectionSettings};
use crate::kafka::{blocking, clients, connection, from_cluster};
use crate::kube::client::ClusterCache;
use crate::settings::{Settings, SiteId};
use anyhow::{Context, Result};
use hdrhistogram::Histogram;
use serde::Serialize;
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    pub name: String,
    pub passed: bool,
    pub summary: String,
    pub seconds: f64,
    pub details: serde_json::Value,
}

impl CheckResult {
    pub fn new(name: String, passed: bool, summary: String, started: Instant) -> Self {
        CheckResult {
            name,
            passed,
            summary,
            seconds: (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
            details: serde_json::Value::Null,
        }
    }
    pub fn with(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }
}

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Copy, Serialize, Default)]
pub struct Percentiles {
    pub count: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
}

impl Percentiles {
    pub fn from_micros(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Percentiles::default();
        }
        let ms = |v: u64| v as f64 / 1000.0;
        Percentiles {
            count: h.len(),
            p50_ms: ms(h.value_at_quantile(0.50)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            p999_ms: ms(h.value_at_quantile(0.999)),
            max_ms: ms(h.max()),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    ProduceConsume { site: SiteId, records: usize, record_size: usize },
    Mirror { records: usize, record_size: usize },
    Perf { site: SiteId, options: perf::PerfOptions, matrix_seconds: Option<u64>, markdown: bool },
    Lag { watch: bool, interval: Duration, count: Option<u64>, limits: LagLimits },
    Latency { site: SiteId, iterations: usize, record_size: usize, acks: String },
    Failover { records: usize, consume_first: usize },
    Acl,
    All,
}

impl PartialEq for perf::PerfOptions {
    fn eq(&self, other: &Self) -> bool {
        serde_json::to_value(self).ok() == serde_json::to_value(other).ok()
    }
}

/// Thresholds that make `verify lag` fail; none means it only reports.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LagLimits {
    pub seconds: Option<f64>,
    pub records: Option<u64>,
}

impl LagLimits {
    /// Why the lag is over a limit, or None when it is within them.
    pub fn exceeded(&self, lags: &[checks::PartitionLag]) -> Option<String> {
        let (records, seconds) = checks::lag_totals(lags);
        let mut over = Vec::new();
        if let Some(max) = self.seconds
            && seconds > max
        {
            let behind = if seconds.is_infinite() { "nothing mirrored yet".to_string() } else { format!("{seconds:.1}s behind") };
            over.push(format!("{behind}, above --max-lag-seconds {max}"));
        }
        if let Some(max) = self.records
            && records > max as i64
        {
            over.push(format!("{records} records behind, above --max-lag-records {max}"));
        }
        (!over.is_empty()).then(|| over.join("; "))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VerifyFormat {
    #[default]
    Table,
    Json,
}

/// Everything a verification needs, without clap.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    pub check: Check,
    /// Connection inputs of site a (production / source) and b (DR / target).
    pub site_a: ConnectionInputs,
    pub site_b: ConnectionInputs,
    pub topic: Option<String>,
    pub mirror_group: Option<String>,
    /// The mirror's identity for `verify acl` (default: mirror.name, password from its Secret).
    pub mirror_user: Option<String>,
    pub mirror_password_file: Option<PathBuf>,
    pub timeout: Duration,
    pub format: VerifyFormat,
    pub junit: Option<PathBuf>,
    /// Settings (profile, contexts, names) for connections read from the clusters.
    pub settings: Settings,
}

/// Resolve a site: explicit inputs first, otherwise the cluster (Kafka status, Secrets). The
/// flag says whether it came from the cluster.
async fn site_connection(options: &VerifyOptions, site: SiteId, clusters: &ClusterCache) -> Result<(ConnectionSettings, bool)> {
    let inputs = match site {
        SiteId::A => &options.site_a,
        SiteId::B => &options.site_b,
    };
    if let Some(c) = inputs.resolve(site.as_str(), options.timeout)? {
        return Ok((c, false));
    }
    let cluster = clusters.get(options.settings.site(site).context.as_deref()).await?;
    let found = from_cluster(&options.settings, site, inputs, options.timeout, &cluster, crate::acl::Purpose::Application).await.with_context(|| {
        format!(
            "no bootstrap address for site {site} was given (--bootstrap / --{}-bootstrap / AMQDR_SITE_{}_BOOTSTRAP), and reading it from the cluster failed",
            if site == SiteId::A { "source" } else { "target" },
            site.as_str().to_uppercase()
        )
    })?;
    Ok((found, true))
}

/// Site b for the perf test's mirror lag column, when DR is known the same way production is
/// (given explicitly, or in the cluster): optional, so a failure only drops the column.
async fn dr_site_for_mirror_lag(
    options: &VerifyOptions,
    clusters: &ClusterCache,
    production_from_cluster: bool,
) -> Option<ConnectionSettings> {
    let dr_given = options.site_b.bootstrap.is_some() || options.site_b.client_config.is_some();
    if !dr_given && !production_from_cluster {
        return None;
    }
    match site_connection(options, SiteId::B, clusters).await {
        Ok((c, _)) => Some(c),
        Err(e) => {
            tracing::warn!("no mirror lag in the perf results: site b is not reachable: {}", crate::error::report(&e));
            None
        }
    }
}

/// What `verify acl` expects where: the DR roles recorded in the sites' clusters when the
/// connections came from them, otherwise the installed layout (a primary, mirroring a -> b).
async fn acl_expectations(options: &VerifyOptions, clusters: &ClusterCache, from_cluster: bool) -> checks::AclExpectations {
    let installed = |why: &str| checks::AclExpectations { fenced: Vec::new(), mirror_source: SiteId::A, roles: why.to_string() };
    if !from_cluster {
        return installed("as installed (a primary, mirroring a -> b): the connections were given, no DR state was read");
    }
    let roles = crate::record::store::roles_reachable(clusters, &options.settings).await;
    match roles.verdict() {
        crate::record::Verdict::Unknown { reason } => installed(&format!("as installed (a primary, mirroring a -> b): {reason}")),
        verdict => {
            let posture = crate::plan::Posture::of_roles(&roles);
            let described = match verdict {
                crate::record::Verdict::Primary { site, epoch, .. } => format!("DR state: {site} primary at epoch {epoch}"),
                crate::record::Verdict::SplitBrain { epoch } => format!("DR state: split brain at epoch {epoch}"),
                _ => format!("DR state: no primary (epoch {})", roles.epoch()),
            };
            checks::AclExpectations { fenced: posture.fenced, mirror_source: posture.mirror_source, roles: described }
        }
    }
}

/// What the acl check expects, and the mirror's identity on the site it currently reads from.
async fn acl_inputs(
    options: &VerifyOptions,
    clusters: &ClusterCache,
    from_cluster: bool,
    connection: impl Fn(SiteId) -> ConnectionSettings,
) -> (checks::AclExpectations, Result<ConnectionSettings>) {
    let expect = acl_expectations(options, clusters, from_cluster).await;
    let source = expect.mirror_source;
    let mirror = mirror_identity(options, &connection(source), source, clusters).await;
    (expect, mirror)
}

/// The mirror's user on the site it reads from: the name and password given, otherwise
/// `mirror.name` and the password in its Secret on that site.
async fn mirror_identity(
    options: &VerifyOptions,
    app_on_source: &ConnectionSettings,
    source: SiteId,
    clusters: &ClusterCache,
) -> Result<ConnectionSettings> {
    let mut m = app_on_source.clone();
    m.user = options.mirror_user.clone().unwrap_or_else(|| crate::acl::Purpose::Mirror.user(&options.settings));
    match &options.mirror_password_file {
        Some(f) => (m.password, m.password_source) = connection::password_from_file(f)?,
        None => {
            let settings = &options.settings;
            let ns = settings.site(source).kafka_namespace.clone();
            let name = crate::acl::Purpose::Mirror.password_secret(settings);
            let cluster = clusters.get(settings.site(source).context.as_deref()).await.with_context(|| {
                format!(
                    "no --mirror-password-file (AMQDR_MIRROR_PASSWORD_FILE) was given, and reading Secret {ns}/{name} needs the cluster"
                )
            })?;
            m.password = crate::kube::cluster_state::read_secret_value(&cluster, &ns, &name, "password").await?.ok_or_else(|| {
                UsageError::new(format!("Secret {ns}/{name} (the mirror's password) not found"))
                    .with_hint("run `amqdr install`, or pass --mirror-password-file")
            })?;
            m.password_source = format!("Secret {ns}/{name} on {}", cluster.context);
        }
    }
    Ok(m)
}

/// A check to run on a blocking thread.
type CheckFn = Box<dyn FnOnce() -> Result<CheckResult> + Send>;

/// The sites a verification runs on, connected as the check needs them.
struct Sites {
    a: Option<ConnectionSettings>,
    b: Option<ConnectionSettings>,
    /// Site a's connection came from its cluster (not from flags).
    from_cluster: bool,
    clusters: ClusterCache,
    topic: String,
    /// MirrorMaker 1's consumer group (None with MirrorMaker 2).
    mm1_group: Option<String>,
}

impl Sites {
    async fn connect(options: &VerifyOptions) -> Result<Sites> {
        let needs = |s: SiteId| match &options.check {
            Check::ProduceConsume { site, .. } | Check::Perf { site, .. } | Check::Latency { site, .. } => *site == s,
            _ => true,
        };
        let clusters = ClusterCache::default();
        let a = if needs(SiteId::A) { Some(site_connection(options, SiteId::A, &clusters).await?) } else { None };
        let from_cluster = a.as_ref().is_some_and(|(_, from_cluster)| *from_cluster);
        let b = if needs(SiteId::B) {
            Some(site_connection(options, SiteId::B, &clusters).await?.0)
        } else if matches!(options.check, Check::Perf { site: SiteId::A, .. }) {
            // The perf test on production also reports the mirror's lag (the seed's table).
            dr_site_for_mirror_lag(options, &clusters, from_cluster).await
        } else {
            None
        };
        let mm1_group = (options.settings.mirror_kind() == crate::profile::MirrorKind::KafkaMirrorMaker)
            .then(|| options.mirror_group.clone().unwrap_or_else(|| options.settings.mirror_group_id()));
        let topic = options.topic.clone().unwrap_or_else(|| options.settings.topic.name.clone());
        Ok(Sites { a: a.map(|(c, _)| c), b, from_cluster, clusters, topic, mm1_group })
    }

    /// A site the check needs (connected by [`Sites::connect`]).
    fn get(&self, site: SiteId) -> ConnectionSettings {
        match site {
            SiteId::A => self.a.clone().expect("site a"),
            SiteId::B => self.b.clone().expect("site b"),
        }
    }
}

/// Run the selected check(s); print the report; the error chain carries the exit code.
pub async fn run(options: VerifyOptions) -> Result<()> {
    let sites = Sites::connect(&options).await?;
    let (topic, timeout) = (sites.topic.clone(), options.timeout);
    let result = match options.check.clone() {
        Check::ProduceConsume { site, records, record_size } => {
            let s = sites.get(site);
            blocking(move || checks::produce_consume(&s, &topic, records, record_size)).await?
        }
        Check::Mirror { records, record_size } => {
            let (s, d) = (sites.get(SiteId::A), sites.get(SiteId::B));
            blocking(move || checks::mirror(&s, &d, &topic, records, record_size, timeout)).await?
        }
        Check::Latency { site, iterations, record_size, acks } => {
            let s = sites.get(site);
            blocking(move || checks::latency(&s, &topic, iterations, record_size, &acks)).await?
        }
        Check::Perf { site, options: po, matrix_seconds: None, .. } => {
            let (s, target) = (sites.get(site), if site == SiteId::A { sites.b.clone() } else { None });
            blocking(move || perf::check(&s, &topic, &po, target.as_ref())).await?
        }
        Check::Perf { site, options: po, matrix_seconds: Some(seconds), markdown } => {
            let (s, target) = (sites.get(site), if site == SiteId::A { sites.b.clone() } else { None });
            let started = Instant::now();
            let rows = blocking(move || perf::matrix(&s, &topic, &po, seconds, target.as_ref())).await?;
            if markdown {
                return crate::output::stdout(perf::matrix_markdown(&rows));
            }
            CheckResult::new("perf seed matrix".into(), true, report::matrix_summary(&rows), started)
                .with(serde_json::json!({"rows": rows}))
        }
        Check::Lag { watch, interval, count, limits } => return lag(&sites, &options, watch, interval, count, limits).await,
        Check::Failover { records, consume_first } => {
            if sites.mm1_group.is_some() {
                return Err(UsageError::new(
                    "failover needs MirrorMaker 2's consumer-group offset sync; profile legacy runs MirrorMaker 1",
                )
                .with_hint("use --profile current")
                .into());
            }
            let (s, d) = (sites.get(SiteId::A), sites.get(SiteId::B));
            blocking(move || checks::failover(&s, &d, &topic, records, consume_first, timeout)).await?
        }
        Check::Acl => {
            let (sa, sb) = (sites.get(SiteId::A), sites.get(SiteId::B));
            let (expect, m) = acl_inputs(&options, &sites.clusters, sites.from_cluster, |s| sites.get(s)).await;
            let m = m?;
            blocking(move || checks::acl(&sa, &sb, &m, &topic, &expect)).await?
        }
        Check::All => return finish(all(&sites, &options).await, &options, false),
    };
    finish(vec![result], &options, false)
}

/// `verify lag`: once, or with --watch every `interval` (`count` times, or until Ctrl-C).
async fn lag(sites: &Sites, options: &VerifyOptions, watch: bool, interval: Duration, count: Option<u64>, limits: LagLimits) -> Result<()> {
    let redraw = watch && options.format == VerifyFormat::Table;
    let mut iteration = 0u64;
    loop {
        let started = Instant::now();
        let (s, d, t, g) = (sites.get(SiteId::A), sites.get(SiteId::B), sites.topic.clone(), sites.mm1_group.clone());
        let lags = blocking(move || checks::lag(&s, &d, &t, g.as_deref())).await?;
        let exceeded = limits.exceeded(&lags);
        let summary = match &exceeded {
            None => report::lag_summary(&lags),
            Some(why) => format!("{}: {why}", report::lag_summary(&lags)),
        };
        let result = CheckResult::new("lag".into(), exceeded.is_none(), summary, started).with(serde_json::json!({
            "partitions": lags,
            "max_lag_seconds": limits.seconds,
            "max_lag_records": limits.records,
        }));
        iteration += 1;
        if redraw {
            crate::output::stdout(format_args!("\x1b[2J\x1b[H{}", report::lag_table(&lags)))?;
        }
        if !watch || count.is_some_and(|c| iteration >= c) {
            return finish(vec![result], options, redraw);
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = tokio::signal::ctrl_c() => return finish(vec![result], options, false),
        }
    }
}

/// `verify all`: every check in turn; one that cannot run is reported failed, the others still run.
async fn all(sites: &Sites, options: &VerifyOptions) -> Vec<CheckResult> {
    let (sa, sb, topic, timeout) = (sites.get(SiteId::A), sites.get(SiteId::B), sites.topic.clone(), options.timeout);
    let (expect, mirror_on_source) = acl_inputs(options, &sites.clusters, sites.from_cluster, |s| sites.get(s)).await;
    let checks: Vec<(&str, CheckFn)> = {
        let (a, b, t, g) = (sa.clone(), sb.clone(), topic.clone(), sites.mm1_group.clone());
        let (a2, b2, t2) = (sa.clone(), sb.clone(), topic.clone());
        let (a3, t3, a4, b4, t4, a5, b5, t5) =
            (sa.clone(), topic.clone(), sa.clone(), sb.clone(), topic.clone(), sa.clone(), sb.clone(), topic.clone());
        let (a6, b6, t6) = (sa.clone(), sb.clone(), topic.clone());
        vec![
            ("produce-consume site a", Box::new(move || checks::produce_consume(&a2, &t2, 100, 1024))),
            ("produce-consume site b", Box::new(move || checks::produce_consume(&b2, &t3, 100, 1024))),
            ("mirror a -> b", Box::new(move || checks::mirror(&a3, &b4, &t4, 100, 1024, timeout))),
            ("latency site a", Box::new(move || checks::latency(&a4, &t5, 50, 1024, "all"))),
            (
                "perf site a",
                Box::new(move || {
                    let po = perf::PerfOptions { num_records: 2000, record_size: 1024, throughput: -1.0, ..Default::default() };
                    perf::check(&a5, &t6, &po, Some(&b5))
                }),
            ),
            (
                "lag",
                Box::new(move || {
                    let started = Instant::now();
                    let lags = checks::lag(&a, &b, &t, g.as_deref())?;
                    Ok(CheckResult::new("lag".into(), true, report::lag_summary(&lags), started)
                        .with(serde_json::json!({"partitions": lags})))
                }),
            ),
            (
                "acl",
                Box::new(move || match mirror_on_source {
                    Ok(m) => checks::acl(&a6, &b6, &m, &topic, &expect),
                    Err(e) => Err(e.context("the mirror's identity for the acl check")),
                }),
            ),
        ]
    };
    let mut results = Vec::new();
    for (name, check) in checks {
        let started = Instant::now();
        match blocking(check).await {
            Ok(r) => results.push(r),
            Err(e) => results.push(CheckResult::new(name.into(), false, crate::error::report(&e), started)),
        }
    }
    results
}

fn finish(results: Vec<CheckResult>, options: &VerifyOptions, already_printed: bool) -> Result<()> {
    if !already_printed {
        match options.format {
            VerifyFormat::Table => crate::output::stdout(report::table(&results))?,
            VerifyFormat::Json => crate::output::stdout_json(&serde_json::json!({
                "passed": results.iter().all(|r| r.passed),
                "checks": results,
            }))?,
        }
    }
    if let Some(path) = &options.junit {
        std::fs::write(path, report::junit(&results)?).with_context(|| format!("writing JUnit report {}", path.display()))?;
    }
    let failed: Vec<&str> = results.iter().filter(|r| !r.passed).map(|r| r.name.as_str()).collect();
    if failed.is_empty() { Ok(()) } else { Err(CheckFailed(format!("failed: {}", failed.join(", "))).into()) }
}

#[cfg(test)]
mod tests {
    use super::LagLimits;
    use super::checks::PartitionLag;

    fn lag(partition: i32, records: i64, seconds: f64) -> PartitionLag {
        PartitionLag { partition, source_end: 100, target_end: 100 - records, records, seconds, method: "test" }
    }

    #[test]
    fn lag_limits() {
        let lags = [lag(0, 5, 1.5), lag(1, 20, 4.0), lag(2, 0, 0.0)];
        assert_eq!(LagLimits::default().exceeded(&lags), None);
        assert_eq!(LagLimits { seconds: Some(4.0), records: Some(25) }.exceeded(&lags), None);
        let why = LagLimits { seconds: Some(3.0), records: None }.exceeded(&lags).unwrap();
        assert!(why.contains("4.0s behind") && why.contains("--max-lag-seconds 3"), "{why}");
        let why = LagLimits { seconds: Some(3.0), records: Some(10) }.exceeded(&lags).unwrap();
        assert!(why.contains("25 records behind, above --max-lag-records 10"), "{why}");
        // Nothing mirrored yet while the source has records: infinitely behind.
        assert!(LagLimits { seconds: Some(60.0), records: None }.exceeded(&[lag(0, 3, f64::INFINITY)]).is_some());
    }
}
