//! Reports of verification runs: a human table, JUnit XML (one testcase per check), and the
//! lag and seed-matrix summaries.

use super::CheckResult;
use super::checks::PartitionLag;
use super::perf::MatrixRow;
use anyhow::Result;

pub fn table(results: &[CheckResult]) -> String {
    let mut t = crate::output::table(&["CHECK", "RESULT", "TIME", "SUMMARY"]);
    for r in results {
        t.add_row([r.name.clone(), if r.passed { "pass".into() } else { "FAIL".into() }, format!("{:.1}s", r.seconds), r.summary.clone()]);
    }
    let passed = results.iter().filter(|r| r.passed).count();
    format!("{t}\n{passed} passed, {} failed\n", results.len() - passed)
}

pub fn junit(results: &[CheckResult]) -> Result<String> {
    use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
    let mut suite = TestSuite::new("amqdr verify");
    for r in results {
        let status = if r.passed {
            TestCaseStatus::success()
        } else {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            s.set_message(r.summary.clone());
            s
        };
        let mut case = TestCase::new(r.name.clone(), status);
        case.set_time(std::time::Duration::from_secs_f64(r.seconds));
        case.set_system_out(r.summary.clone());
        suite.add_test_case(case);
    }
    let mut report = Report::new("amqdr");
    report.add_test_suite(suite);
    Ok(report.to_string()?)
}

pub fn lag_summary(lags: &[PartitionLag]) -> String {
    let (records, seconds) = super::checks::lag_totals(lags);
    if seconds.is_infinite() {
        format!("{records} records behind over {} partitions, a partition has no mirrored record yet", lags.len())
    } else {
        format!("{records} records behind over {} partitions, newest mirrored record {seconds:.1}s behind", lags.len())
    }
}

pub fn lag_table(lags: &[PartitionLag]) -> String {
    let mut t = crate::output::table(&["PARTITION", "SOURCE END", "TARGET END", "LAG (RECORDS)", "LAG (SECONDS)"]);
    for l in lags {
        t.add_row([
            l.partition.to_string(),
            l.source_end.to_string(),
            l.target_end.to_string(),
            l.records.to_string(),
            if l.seconds.is_infinite() { "-".to_string() } else { format!("{:.1}", l.seconds) },
        ]);
    }
    format!("{t}\n{}\n", lag_summary(lags))
}

pub fn matrix_summary(rows: &[MatrixRow]) -> String {
    rows.iter()
        .map(|r| {
            format!(
                "{} B x {}/s: {:.2} MB/s, avg {:.1} ms, max lag {}",
                r.record_size,
                r.rate,
                r.result.mb_per_second,
                r.result.latency_avg_ms,
                r.result.max_mirror_lag_records.map(|l| l.to_string()).unwrap_or_else(|| "n/a".into())
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}
