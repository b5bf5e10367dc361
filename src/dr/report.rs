//! The DR operations' reports as a person reads them (`-o json` prints the same reports as JSON).

use super::failback::{PrepareReport, SyncReport};
use super::failover::SwitchReport;
use super::runbook::StepReport;
use super::topics::TopicSync;
use super::users::{self, SyncResult, UsersSync};
use crate::output;

/// The steps of a DR operation: outcome, time and detail of each.
pub fn steps(steps: &[StepReport]) -> String {
    let mut t = output::table(&["STEP", "OUTCOME", "TIME", "DETAIL"]);
    for s in steps {
        t.add_row([s.step.to_string(), s.outcome.to_string(), format!("{:.1}s", s.seconds), s.detail.clone()]);
    }
    format!("{t}\n")
}

/// A failover or failback switch: steps, partitions, groups, RTO and RPO.
pub fn switch(r: &SwitchReport) -> String {
    let mut out = steps(&r.steps);
    let mut t = output::table(&["TOPIC", "PARTITION", "OLD PRIMARY END", "NEW PRIMARY END", "LOST"]);
    for p in &r.partitions {
        let opt = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_else(|| "?".into());
        t.add_row([p.topic.clone(), p.partition.to_string(), opt(p.old_primary_end), p.new_primary_end.to_string(), opt(p.lost)]);
    }
    if !r.partitions.is_empty() {
        out.push_str(&format!("\n{t}\n"));
    }
    for g in &r.groups {
        let moves: Vec<String> = g
            .partitions
            .iter()
            .map(|m| {
                let how =
                    serde_json::to_value(m.derivation).ok().and_then(|v| v["method"].as_str().map(str::to_string)).unwrap_or_default();
                format!("{}/{} {:?} -> {:?} ({how})", m.topic, m.partition, m.target_before, m.target_after)
            })
            .collect();
        out.push_str(&format!(
            "group {}: {}{} {}\n",
            g.group,
            g.result,
            if g.reason.is_empty() { String::new() } else { format!(" ({})", g.reason) },
            moves.join(", ")
        ));
    }
    let rpo = match (r.rpo.records, r.rpo.seconds) {
        (Some(n), Some(s)) => format!("{n} records, {s:.1}s"),
        _ => "unknown".into(),
    };
    out.push_str(&format!(
        "{} {} -> {}: {} at epoch {}; RTO {:.1}s; RPO {rpo} ({})\n",
        r.operation, r.from, r.to, r.result, r.epoch, r.rto_seconds, r.rpo.basis
    ));
    out
}

/// `failback prepare`: steps, stranded records and what became of them.
pub fn prepare(r: &PrepareReport) -> String {
    let mut out = steps(&r.steps);
    for p in r.partitions.iter().filter(|p| p.stranded > 0) {
        out.push_str(&format!("stranded {}/{}: {} record(s) in [{}, {})\n", p.topic, p.partition, p.stranded, p.from, p.end));
    }
    out.push_str(&format!(
        "failback prepare: {}; {} stranded record(s){}{}\n",
        r.result,
        r.stranded_records,
        r.exported_to.as_ref().map(|f| format!(", exported to {f}")).unwrap_or_default(),
        if r.recreated_topics.is_empty() { String::new() } else { format!(", recreated: {}", r.recreated_topics.join(", ")) }
    ));
    out
}

/// `failback sync`: steps and the reverse mirror's lag.
pub fn sync(r: &SyncReport) -> String {
    let mut out = steps(&r.steps);
    for t in &r.lag {
        out.push_str(&format!("lag b -> a {}: {} records, {:.1}s\n", t.topic, t.records, t.seconds));
    }
    out.push_str(&format!("failback sync: {}\n", r.result));
    out
}

/// `mirror sync-topics`: what was (or would be) changed on the standby.
pub fn sync_topics(r: &TopicSync) -> String {
    let verb = if r.dry_run { "would" } else { "did" };
    let mut text =
        format!("site {} -> site {}: {} topic(s) in scope, {} change(s)\n", r.source, r.target, r.topics_in_scope, r.actions.len());
    for a in &r.actions {
        text.push_str(&format!("  {verb}: {}\n", a.describe()));
    }
    text
}

/// `users sync`: what was (or would be) done per user, and users only on the other site.
pub fn users_sync(r: &UsersSync) -> String {
    let verb = if r.result == SyncResult::Synced { "did" } else { "would" };
    let mut text = format!("{}: {}\n", users::summary(r), r.result);
    for u in &r.users {
        for a in &u.actions {
            text.push_str(&format!("  {verb}: {}\n", a.describe(&u.user)));
        }
        if let Some(why) = &u.not_synced {
            text.push_str(&format!("  not synced: {}: {why}\n", u.user));
        }
    }
    if !r.target_only.is_empty() {
        text.push_str(&format!("  only on site {} (left alone): {}\n", r.target, r.target_only.join(", ")));
    }
    text
}
