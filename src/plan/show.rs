//! Presentation of a Plan: the step table, multi-document YAML, and stable JSON.

use super::{Lane, Plan, Step, StepSubject};
use crate::render;
use crate::settings::{Settings, Warning};
use anyhow::Result;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PlanFormat {
    /// One line per step: stage, site, step, kind, namespace/name, action.
    #[default]
    Plan,
    /// Every manifest as multi-document YAML in apply order (for kubectl apply -f - / GitOps).
    Yaml,
    /// The steps and objects as JSON.
    Json,
}

/// One row of the plan listing; also the JSON shape of a step (stable, documented).
#[derive(Debug, Clone, Serialize)]
pub struct StepRow {
    pub index: usize,
    pub stage: &'static str,
    pub site: String,
    pub step: &'static str,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    pub action: String,
}

impl StepRow {
    /// Step `index` (1-based, in Plan order) of a lane of stage `stage`.
    pub fn new(index: usize, stage: &'static str, lane: &Lane, step: &Step) -> Self {
        let StepSubject { kind, namespace, name, action } = step.subject();
        StepRow { index, stage, site: lane.site.to_string(), step: step.phase, kind, namespace, name, action }
    }
}

pub fn rows(plan: &Plan) -> Vec<StepRow> {
    plan.steps().enumerate().map(|(i, (stage, lane, step))| StepRow::new(i + 1, stage.name, lane, step)).collect()
}

/// The human listing: aligned columns, a header, one line per step.
pub fn plan_table(plan: &Plan) -> String {
    let rows = rows(plan);
    let cells: Vec<[String; 7]> = rows
        .iter()
        .map(|r| {
            let target = match &r.namespace {
                Some(ns) => format!("{ns}/{}", r.name),
                None => r.name.clone(),
            };
            [r.index.to_string(), r.stage.to_string(), r.site.clone(), r.step.to_string(), r.kind.clone(), target, r.action.clone()]
        })
        .collect();
    let header = ["#", "STAGE", "SITE", "STEP", "KIND", "NAMESPACE/NAME", "ACTION"].map(String::from);
    let mut widths = header.clone().map(|h| h.len());
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row.iter()) {
            *w = (*w).max(c.len());
        }
    }
    let line = |row: &[String; 7]| {
        let mut s = String::new();
        for (i, (c, w)) in row.iter().zip(widths.iter()).enumerate() {
            if i == 0 {
                s.push_str(&format!("{c:>w$}"));
            } else if i + 1 == row.len() {
                s.push_str(&format!("  {c}"));
            } else {
                s.push_str(&format!("  {c:<w$}"));
            }
        }
        s.trim_end().to_string()
    };
    let mut out = line(&header);
    out.push('\n');
    for row in &cells {
        out.push_str(&line(row));
        out.push('\n');
    }
    out
}

#[derive(Serialize)]
struct PlanJson<'a> {
    profile: &'a str,
    strimzi_version: &'a str,
    layout: &'static str,
    warnings: Vec<String>,
    steps: Vec<StepRow>,
    objects: Vec<serde_json::Value>,
}

pub fn plan_json(plan: &Plan, settings: &Settings, warnings: &[Warning], show_secrets: bool) -> Result<String> {
    let doc = PlanJson {
        profile: settings.profile.as_str(),
        strimzi_version: settings.profile.strimzi_version(),
        layout: if settings.one_cluster() { "one-cluster" } else { "two-clusters" },
        warnings: warnings.iter().map(|w| w.to_string()).collect(),
        steps: rows(plan),
        objects: plan.objects().map(|o| if show_secrets { o.0.clone() } else { o.redacted().0 }).collect(),
    };
    Ok(serde_json::to_string_pretty(&doc)? + "\n")
}

pub fn plan_yaml(plan: &Plan, show_secrets: bool) -> Result<String> {
    render::to_yaml_documents(plan.objects(), show_secrets)
}

pub fn format_plan(plan: &Plan, settings: &Settings, warnings: &[Warning], format: PlanFormat, show_secrets: bool) -> Result<String> {
    match format {
        PlanFormat::Plan => Ok(plan_table(plan)),
        PlanFormat::Yaml => plan_yaml(plan, show_secrets),
        PlanFormat::Json => plan_json(plan, settings, warnings, show_secrets),
    }
}
