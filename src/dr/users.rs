//! `amqdr users sync`: identities follow the data. Every KafkaUser in the primary's Kafka
//! namespace that the selection names (label `amqdr.io/dr=true` by default, or all) exists on the
//! other site with the same spec (ACLs, quotas) and the same password, so a client the GTM moves
//! logs in on DR as it did in production. amqdr's own users (`app.kubernetes.io/managed-by=amqdr`)
//! are install's, and left out.
//!
//! Passwords: a KafkaUser naming its password (`valueFrom.secretKeyRef`) has that Secret's key
//! copied to the other site. One whose password the User Operator generated (Secret `<user>`,
//! key `password`) has that value kept in a Secret amqdr owns on both sites
//! (`<user>-dr-password`), and the primary's KafkaUser pointed at it: the User Operator then keeps
//! the same value, so the client's password does not change. Values are compared by sha256 in
//! memory and never printed. tls / tls-external users cannot be made equal (each site's clients
//! CA signs its own certificates): they are reported, not synced.
//!
//! The standby's copies carry [`COPY_OF_LABEL`] (the site they copy) and are written with
//! server-side apply under amqdr's field manager. Every run plans from what both sites hold now
//! and each action is idempotent, so an interrupted run converges when run again and a run with
//! nothing to do changes nothing. [`plan_user`] is pure (tested on fixtures); [`observe`] and
//! [`sync`] read and write the sites.

use super::coverage::{IdentityDrift, normalised_acls};
use super::runbook::{Runbook, Step, confirm};
use super::{Dr, refuse};
use crate::kube::apply::{self, patch_params};
use crate::kube::cluster_state::read_secret_value;
use crate::kube::object::{MANAGED_BY, MANAGED_BY_LABEL, Manifest};
use crate::settings::SiteId;
use anyhow::{Context, Result};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The label that selects users by default.
pub const DEFAULT_SELECTOR: &str = "amqdr.io/dr=true";
/// On a standby's copy: the site whose KafkaUser it copies.
pub const COPY_OF_LABEL: &str = "amqdr.io/dr-copy-of";
/// On a standby's copy: where it was copied from (site, namespace/name).
pub const COPY_SOURCE_ANNOTATION: &str = "amqdr.io/dr-copy-source";
/// On the Secret amqdr keeps a generated password in: the KafkaUser it belongs to.
pub const PASSWORD_OF_LABEL: &str = "amqdr.io/dr-password-of";
const CLUSTER_LABEL: &str = "strimzi.io/cluster";
/// The Secret amqdr keeps a generated password of `user` in (both sites).
pub fn dr_password_secret(user: &str) -> String {
    format!("{user}-dr-password")
}

/// One term of a label selector (equality-based, as `kubectl -l` takes them).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Term {
    Equals(String, String),
    NotEquals(String, String),
    Exists(String),
    Absent(String),
}

/// A label selector: comma-separated `key=value`, `key==value`, `key!=value`, `key`, `!key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    text: String,
    terms: Vec<Term>,
}

fn valid_name(part: &str) -> bool {
    let ok_edge = |c: char| c.is_ascii_alphanumeric();
    !part.is_empty()
        && part.len() <= 63
        && part.starts_with(ok_edge)
        && part.ends_with(ok_edge)
        && part.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn valid_key(key: &str) -> bool {
    match key.split_once('/') {
        Some((prefix, name)) => {
            prefix.len() <= 253
                && prefix
                    .split('.')
                    .all(|l| !l.is_empty() && l.len() <= 63 && l.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'))
                && !prefix.starts_with('-')
                && valid_name(name)
        }
        None => valid_name(key),
    }
}

impl Selector {
    /// Parse `text`; the error says what is wrong with it (the caller names the flag).
    pub fn parse(text: &str) -> std::result::Result<Selector, String> {
        let mut terms = Vec::new();
        for raw in text.split(',') {
            let term = raw.trim();
            if term.is_empty() {
                return Err(format!("{text:?} has an empty term (a selector is key=value[,key=value...])"));
            }
            if term.contains(" in ") || term.contains(" notin ") || term.contains('(') {
                return Err(format!("{term:?}: set-based terms (in, notin) are not supported; use key=value terms"));
            }
            let (key, value, parsed) = if let Some((k, v)) = term.split_once("!=") {
                (k, Some(v), Term::NotEquals(k.trim().into(), v.trim().into()))
            } else if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
                (k, Some(v), Term::Equals(k.trim().into(), v.trim().into()))
            } else if let Some(k) = term.strip_prefix('!') {
                (k, None, Term::Absent(k.trim().into()))
            } else {
                (term, None, Term::Exists(term.into()))
            };
            if !valid_key(key.trim()) {
                return Err(format!("{:?} is not a label key (name or prefix/name, alphanumerics, '-', '_', '.')", key.trim()));
            }
            if let Some(v) = value.map(str::trim)
                && !(v.is_empty() || valid_name(v))
            {
                return Err(format!("{v:?} is not a label value (at most 63 alphanumerics, '-', '_', '.')"));
            }
            terms.push(parsed);
        }
        Ok(Selector { text: text.trim().into(), terms })
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.terms.iter().all(|t| match t {
            Term::Equals(k, v) => labels.get(k) == Some(v),
            Term::NotEquals(k, v) => labels.get(k) != Some(v),
            Term::Exists(k) => labels.contains_key(k),
            Term::Absent(k) => !labels.contains_key(k),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

/// Which KafkaUsers follow the data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    All,
    Labels(Selector),
}

impl Default for Selection {
    fn default() -> Selection {
        Selection::Labels(Selector::parse(DEFAULT_SELECTOR).expect("the default selector parses"))
    }
}

impl Selection {
    pub fn describe(&self) -> String {
        match self {
            Selection::All => "all users (--all)".into(),
            Selection::Labels(s) => format!("label selector {}", s.as_str()),
        }
    }

    fn selects(&self, labels: &BTreeMap<String, String>) -> bool {
        match self {
            Selection::All => true,
            Selection::Labels(s) => s.matches(labels),
        }
    }
}

/// A KafkaUser as read from a site: what the plan compares. Passwords only as digests.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Live {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub spec: Value,
    /// sha256 of the value the spec's `valueFrom.secretKeyRef` names (None: it names none, or it
    /// is not there).
    pub desired_password: Option<String>,
    /// sha256 of the User Operator's generated password (Secret `<user>`, key `password`).
    pub generated_password: Option<String>,
}

impl Live {
    fn auth_type(&self) -> &str {
        self.spec.pointer("/authentication/type").and_then(Value::as_str).unwrap_or("")
    }

    /// The spec's password Secret and key.
    fn password_ref(&self) -> Option<(String, String)> {
        password_ref(&self.spec)
    }

    fn is_amqdrs_own(&self) -> bool {
        self.labels.get(MANAGED_BY_LABEL).map(String::as_str) == Some(MANAGED_BY)
    }

    fn copy_of(&self) -> Option<&str> {
        self.labels.get(COPY_OF_LABEL).map(String::as_str)
    }
}

fn password_ref(spec: &Value) -> Option<(String, String)> {
    let r = spec.pointer("/authentication/password/valueFrom/secretKeyRef")?;
    Some((r.get("name")?.as_str()?.to_string(), r.get("key")?.as_str()?.to_string()))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum UserAction {
    /// Keep the generated password in a Secret amqdr owns on the source and point the source's
    /// KafkaUser at it (the value does not change).
    KeepGeneratedPassword {
        site: SiteId,
        secret: String,
    },
    /// Copy the password Secret's key to the target.
    CopyPassword {
        site: SiteId,
        secret: String,
        key: String,
    },
    CreateUser {
        site: SiteId,
    },
    UpdateUser {
        site: SiteId,
        what: Vec<String>,
    },
}

impl UserAction {
    pub fn describe(&self, user: &str) -> String {
        match self {
            UserAction::KeepGeneratedPassword { site, secret } => format!(
                "keep {user}'s generated password in Secret {secret} on site {site} and point its KafkaUser at it (the value stays)"
            ),
            UserAction::CopyPassword { site, secret, key } => format!("copy {user}'s password (Secret {secret}, key {key}) to site {site}"),
            UserAction::CreateUser { site } => format!("create KafkaUser {user} on site {site}"),
            UserAction::UpdateUser { site, what } => format!("update KafkaUser {user} on site {site} ({})", what.join(", ")),
        }
    }
}

/// One selected user: what the target lacks (`problems`, for status), what fixes it (`actions`),
/// or why amqdr cannot (`not_synced`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserPlan {
    pub user: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
    pub actions: Vec<UserAction>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_synced: Option<String>,
}

impl UserPlan {
    fn in_step(&self) -> bool {
        self.actions.is_empty() && self.not_synced.is_none()
    }
}

/// Where the copy goes and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flow {
    pub source: SiteId,
    pub target: SiteId,
    pub source_namespace: String,
    pub target_namespace: String,
    pub target_cluster: String,
}

/// The spec the target's copy has (and the source's, once a generated password is kept).
fn wanted_spec(source: &Live) -> Value {
    let mut spec = source.spec.clone();
    if source.password_ref().is_none() && matches!(source.auth_type(), "scram-sha-512") {
        spec["authentication"]["password"] =
            json!({"valueFrom": {"secretKeyRef": {"name": dr_password_secret(&source.name), "key": "password"}}});
    }
    spec
}

/// The labels of the target's copy: the source's, with the target's cluster and the copy mark.
fn wanted_labels(source: &Live, flow: &Flow) -> BTreeMap<String, String> {
    let mut labels: BTreeMap<String, String> =
        source.labels.iter().filter(|(k, _)| k.as_str() != MANAGED_BY_LABEL).map(|(k, v)| (k.clone(), v.clone())).collect();
    labels.insert(CLUSTER_LABEL.into(), flow.target_cluster.clone());
    labels.insert(COPY_OF_LABEL.into(), flow.source.as_str().into());
    labels
}

/// What one selected user needs on the target.
pub fn plan_user(source: &Live, target: Option<&Live>, flow: &Flow) -> UserPlan {
    let (s, t) = (flow.source, flow.target);
    let mut plan = UserPlan { user: source.name.clone(), problems: Vec::new(), actions: Vec::new(), not_synced: None };
    let auth = source.auth_type();
    if matches!(auth, "tls" | "tls-external") {
        plan.not_synced = Some(format!("{auth} user; issue its certificate from site {t}'s clients CA"));
        if target.is_none() {
            plan.problems.push(format!(
                "no KafkaUser on site {t} ({auth} user: create it there and issue its certificate from site {t}'s clients CA)"
            ));
        }
        return plan;
    }
    if let Some(other) = target.filter(|l| l.copy_of() != Some(s.as_str())) {
        plan.not_synced = Some(format!(
            "site {t} has a KafkaUser {} of its own (not a DR copy of site {s}): amqdr leaves it alone; delete it there, or label it {COPY_OF_LABEL}={s} to have amqdr keep it in step",
            other.name
        ));
        return plan;
    }
    let scram = auth == "scram-sha-512";
    let password = match (scram, source.password_ref(), &source.desired_password, &source.generated_password) {
        (false, ..) => None,
        (true, Some(_), Some(d), _) => Some(d.clone()),
        (true, Some((secret, key)), None, _) => {
            plan.not_synced = Some(format!("its password Secret {secret} (key {key}) is not on site {s}"));
            return plan;
        }
        (true, None, _, Some(g)) => {
            plan.actions.push(UserAction::KeepGeneratedPassword { site: s, secret: dr_password_secret(&source.name) });
            Some(g.clone())
        }
        (true, None, _, None) => {
            plan.not_synced = Some(format!(
                "its generated password is not on site {s} yet (Secret {} has no key password): is the KafkaUser Ready?",
                source.name
            ));
            return plan;
        }
    };
    let spec = wanted_spec(source);
    if let Some(digest) = &password {
        let differs = target.is_some_and(|l| l.desired_password.as_ref() != Some(digest));
        // Also when the value is equal but the copy names another Secret: the one it will name
        // must be there first.
        if target.is_none() || differs || target.and_then(Live::password_ref) != password_ref(&spec) {
            let (secret, key) = password_ref(&spec).unwrap_or_default();
            plan.actions.push(UserAction::CopyPassword { site: t, secret, key });
        }
        if differs {
            plan.problems.push(format!("its password differs from site {s}'s (a client moved by the GTM could not log in)"));
        }
    }
    match target {
        None => {
            plan.actions.push(UserAction::CreateUser { site: t });
            plan.problems.push(format!("no KafkaUser on site {t}"));
        }
        Some(live) => {
            let mut what = Vec::new();
            let (want, have) = (normalised_acls(&spec["authorization"]["acls"]), normalised_acls(&live.spec["authorization"]["acls"]));
            if want != have {
                let (missing, extra) = (want.difference(&have).count(), have.difference(&want).count());
                what.push(format!("ACLs: {missing} missing, {extra} extra"));
                plan.problems.push(format!("its ACLs differ from site {s}'s ({missing} missing, {extra} extra)"));
            }
            let (mut a, mut b) = (spec.clone(), live.spec.clone());
            for v in [&mut a, &mut b] {
                if let Some(auth) = v.get_mut("authorization") {
                    auth["acls"] = Value::Null;
                }
            }
            if a != b {
                what.push("spec".into());
                plan.problems.push(format!("its spec (authentication, quotas, template) differs from site {s}'s"));
            }
            let labels = wanted_labels(source, flow);
            if labels.iter().any(|(k, v)| live.labels.get(k) != Some(v)) {
                what.push("labels".into());
            }
            if !what.is_empty() {
                plan.actions.push(UserAction::UpdateUser { site: t, what });
            }
        }
    }
    plan
}

/// What the sites hold: the selected users of the source, the copies' counterparts on the target,
/// the target's users that are copies of a source user no longer there.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    pub source: Vec<Live>,
    pub target: BTreeMap<String, Live>,
}

/// The selected users' plans and the target's users the source lacks (informational).
pub fn plan(observed: &Observed, selection: &Selection, flow: &Flow) -> (Vec<UserPlan>, Vec<String>) {
    let selected: Vec<&Live> = observed
        .source
        .iter()
        // A copy of the target's own user: its original lives there.
        .filter(|l| !l.is_amqdrs_own() && l.copy_of() != Some(flow.target.as_str()) && selection.selects(&l.labels))
        .collect();
    let plans = selected.iter().map(|l| plan_user(l, observed.target.get(&l.name), flow)).collect();
    let on_source: std::collections::BTreeSet<&str> = observed.source.iter().map(|l| l.name.as_str()).collect();
    let target_only = observed
        .target
        .values()
        .filter(|l| !l.is_amqdrs_own() && !on_source.contains(l.name.as_str()))
        .filter(|l| l.copy_of().is_some() || selection.selects(&l.labels))
        .map(|l| l.name.clone())
        .collect();
    (plans, target_only)
}

/// The users' drift as `status` reports it, each with its fix.
pub fn drift(plans: &[UserPlan], flow: &Flow) -> Vec<IdentityDrift> {
    plans
        .iter()
        .flat_map(|p| {
            let fix = if p.not_synced.is_some() { String::new() } else { " (`amqdr users sync`)".to_string() };
            p.problems.iter().map(move |problem| IdentityDrift {
                user: p.user.clone(),
                site: flow.target,
                problem: format!("{problem}{fix}"),
            })
        })
        .collect()
}

fn digest(value: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(value.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Read one site's KafkaUsers with their passwords' digests.
async fn read_users(dr: &Dr, site: SiteId) -> Result<Vec<Live>> {
    let cluster = dr.cluster(site)?;
    let ns = &dr.settings().site(site).kafka_namespace;
    let users = apply::list(cluster, dr.settings().profile.api_version(), "KafkaUser", ns).await?;
    let mut out = Vec::new();
    for u in users {
        let name = u.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default().to_string();
        let labels: BTreeMap<String, String> = serde_json::from_value(u.pointer("/metadata/labels").cloned().unwrap_or(json!({})))
            .with_context(|| format!("labels of KafkaUser {ns}/{name}"))?;
        let spec = u.get("spec").cloned().unwrap_or(json!({}));
        let desired_password = match password_ref(&spec) {
            Some((secret, key)) => read_secret_value(cluster, ns, &secret, &key).await?.filter(|v| !v.is_empty()).map(|v| digest(&v)),
            None => None,
        };
        let generated = u.pointer("/status/secret").and_then(Value::as_str).unwrap_or(&name).to_string();
        let generated_password = match password_ref(&spec) {
            Some(_) => None,
            None => read_secret_value(cluster, ns, &generated, "password").await?.filter(|v| !v.is_empty()).map(|v| digest(&v)),
        };
        out.push(Live { name, labels, spec, desired_password, generated_password });
    }
    Ok(out)
}

/// The flow the DR records name: from the primary to the other site; refused on split brain or
/// with no primary.
pub async fn flow(dr: &Dr) -> Result<Flow> {
    let roles = dr.sites.roles().await;
    let (source, _) = roles.primary().map_err(|e| refuse(format!("{e:#}"), "see `amqdr status`; users follow the primary's"))?;
    let target = source.other();
    let settings = dr.settings();
    Ok(Flow {
        source,
        target,
        source_namespace: settings.site(source).kafka_namespace.clone(),
        target_namespace: settings.site(target).kafka_namespace.clone(),
        target_cluster: settings.site(target).cluster_name.clone(),
    })
}

/// Read both sites of the flow.
pub async fn observe(dr: &Dr, flow: &Flow) -> Result<Observed> {
    let (source, target) = tokio::join!(read_users(dr, flow.source), read_users(dr, flow.target));
    Ok(Observed { source: source?, target: target?.into_iter().map(|l| (l.name.clone(), l)).collect() })
}

/// The selected users' drift between the primary and the other site (for `status`), and the
/// users only the other site has.
pub async fn coverage(dr: &Dr) -> Result<(Vec<IdentityDrift>, Vec<String>)> {
    let flow = flow(dr).await?;
    let (plans, target_only) = plan(&observe(dr, &flow).await?, &Selection::default(), &flow);
    Ok((drift(&plans, &flow), target_only))
}

#[derive(Debug, Clone, Serialize)]
pub struct UsersSync {
    pub source: SiteId,
    pub target: SiteId,
    pub selection: String,
    pub dry_run: bool,
    /// in-step / synced / dry-run / would-sync
    pub result: SyncResult,
    pub users: Vec<UserPlan>,
    /// KafkaUsers on the target that the source lacks (copies of deleted users, or the target's own).
    pub target_only: Vec<String>,
    pub warnings: Vec<String>,
}

impl UsersSync {
    pub fn changes(&self) -> usize {
        self.users.iter().map(|u| u.actions.len()).sum()
    }
}

fn secret_manifest(ns: &str, name: &str, key: &str, value: &str, labels: &[(&str, &str)]) -> Manifest {
    use base64::Engine;
    let mut m = Manifest(json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": ns},
        "type": "Opaque",
        "data": {key: base64::engine::general_purpose::STANDARD.encode(value)},
    }));
    m.set_label(MANAGED_BY_LABEL, MANAGED_BY);
    for (k, v) in labels {
        m.set_label(k, v);
    }
    m
}

/// Carry out one user's actions in order (Secrets before the KafkaUsers that name them).
async fn apply_user(dr: &Dr, flow: &Flow, source: &Live, plan: &UserPlan) -> Result<()> {
    let (sc, tc) = (dr.cluster(flow.source)?, dr.cluster(flow.target)?);
    let api_version = dr.settings().profile.api_version();
    let spec = wanted_spec(source);
    let (secret, key) = password_ref(&spec).unwrap_or_default();
    let pp = patch_params(false);
    for action in &plan.actions {
        match action {
            UserAction::KeepGeneratedPassword { secret, .. } => {
                let generated = source.name.clone();
                let value = read_secret_value(sc, &flow.source_namespace, &generated, "password")
                    .await?
                    .with_context(|| format!("Secret {generated} on site {} has no password any more", flow.source))?;
                let m = secret_manifest(&flow.source_namespace, secret, "password", &value, &[(PASSWORD_OF_LABEL, &source.name)]);
                apply::apply(sc, &m, &pp).await?;
                // Only the password reference is amqdr's: the rest of the KafkaUser stays its owner's.
                let pointer = Manifest(json!({
                    "apiVersion": api_version,
                    "kind": "KafkaUser",
                    "metadata": {"name": source.name, "namespace": flow.source_namespace},
                    "spec": {"authentication": {"type": "scram-sha-512", "password": spec["authentication"]["password"].clone()}},
                }));
                apply::apply(sc, &pointer, &pp).await?;
            }
            UserAction::CopyPassword { .. } => {
                let value = read_secret_value(sc, &flow.source_namespace, &secret, &key)
                    .await?
                    .with_context(|| format!("Secret {secret} (key {key}) is not on site {} any more", flow.source))?;
                let from = flow.source.as_str();
                let m = secret_manifest(&flow.target_namespace, &secret, &key, &value, &[(COPY_OF_LABEL, from)]);
                apply::apply(tc, &m, &pp).await?;
            }
            UserAction::CreateUser { .. } | UserAction::UpdateUser { .. } => {
                let mut m = Manifest(json!({
                    "apiVersion": api_version,
                    "kind": "KafkaUser",
                    "metadata": {
                        "name": source.name,
                        "namespace": flow.target_namespace,
                        "annotations": {COPY_SOURCE_ANNOTATION: format!("site {}, {}/{}", flow.source, flow.source_namespace, source.name)},
                    },
                    "spec": spec,
                }));
                for (k, v) in wanted_labels(source, flow) {
                    m.set_label(&k, &v);
                }
                apply::apply(tc, &m, &pp).await?;
            }
        }
        eprintln!("[users sync] {}", action.describe(&source.name));
    }
    Ok(())
}

/// Make the selected users of the primary exist on the other site (`dry_run`: only plan).
/// Without `yes` a person confirms first.
pub async fn sync(dr: &Dr, selection: &Selection, dry_run: bool, yes: bool) -> Result<UsersSync> {
    let flow = flow(dr).await?;
    let observed = observe(dr, &flow).await?;
    let (plans, target_only) = plan(&observed, selection, &flow);
    let mut warnings = Vec::new();
    // Copies of the target's own users count as matches: there is just nothing to copy back.
    let matched = observed.source.iter().any(|l| !l.is_amqdrs_own() && selection.selects(&l.labels));
    if !matched && let Selection::Labels(s) = selection {
        warnings.push(format!(
            "--selector {} matches no KafkaUser in {} on site {}: label the users that follow the data (`kubectl label kafkauser NAME {DEFAULT_SELECTOR}`), or pass --all",
            s.as_str(),
            flow.source_namespace,
            flow.source,
        ));
    }
    let changes: usize = plans.iter().map(|p| p.actions.len()).sum();
    let mut report = UsersSync {
        source: flow.source,
        target: flow.target,
        selection: selection.describe(),
        dry_run,
        result: SyncResult::InStep,
        users: plans,
        target_only,
        warnings,
    };
    report.result = match (changes, dry_run) {
        (0, _) => SyncResult::InStep,
        (_, true) => SyncResult::WouldSync,
        (_, false) => SyncResult::Synced,
    };
    if changes == 0 || dry_run {
        return Ok(report);
    }
    confirm(&format!("Sync {changes} change(s) of KafkaUsers from site {} to site {}?", flow.source, flow.target), yes)?;
    for p in report.users.iter().filter(|p| !p.actions.is_empty()) {
        let source = observed.source.iter().find(|l| l.name == p.user).expect("a planned user was observed");
        apply_user(dr, &flow, source, p).await.with_context(|| format!("syncing KafkaUser {} to site {}", p.user, flow.target))?;
    }
    Ok(report)
}

/// What a sync did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SyncResult {
    /// Nothing to change.
    InStep,
    /// `--dry-run` with changes to make.
    WouldSync,
    Synced,
}

impl std::fmt::Display for SyncResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SyncResult::InStep => "in-step",
            SyncResult::WouldSync => "would-sync",
            SyncResult::Synced => "synced",
        })
    }
}

/// The one-line summary of a sync.
pub fn summary(r: &UsersSync) -> String {
    let not_synced = r.users.iter().filter(|u| u.not_synced.is_some()).count();
    let in_step = r.users.iter().filter(|u| u.in_step()).count();
    format!(
        "site {} -> site {}: {} user(s) selected ({}), {} in step, {} change(s){}, {} not synced",
        r.source,
        r.target,
        r.users.len(),
        r.selection,
        in_step,
        r.changes(),
        match r.result {
            SyncResult::Synced => " made",
            SyncResult::WouldSync => " to make",
            SyncResult::InStep => "",
        },
        not_synced
    )
}

/// The `sync-users` step of failover and failback, after the roles flipped: the new primary's
/// users onto the other site. A failure does not undo the switch: it is a warning with the
/// command to run again.
pub async fn switch_step(dr: &Dr, book: &mut Runbook) {
    book.step_or_warn(
        Step::SyncUsers,
        "the new primary's selected KafkaUsers and passwords onto the other site",
        "amqdr users sync --yes",
        async { Ok(summary(&sync(dr, &Selection::default(), false, true).await?)) },
    )
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow() -> Flow {
        Flow {
            source: SiteId::A,
            target: SiteId::B,
            source_namespace: "datacenter-a".into(),
            target_namespace: "datacenter-b".into(),
            target_cluster: "my-second-cluster".into(),
        }
    }

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn acls() -> Value {
        json!({"type": "simple", "acls": [{"resource": {"type": "topic", "name": "orders"}, "operations": ["Read", "Write"]}]})
    }

    fn generated(name: &str) -> Live {
        Live {
            name: name.into(),
            labels: labels(&[("strimzi.io/cluster", "my-cluster"), ("amqdr.io/dr", "true")]),
            spec: json!({"authentication": {"type": "scram-sha-512"}, "authorization": acls()}),
            desired_password: None,
            generated_password: Some(digest("s3cret")),
        }
    }

    #[test]
    fn selectors_parse_and_match_like_kubectl() {
        let s = Selector::parse("amqdr.io/dr=true, tier!=test,app").unwrap();
        assert!(s.matches(&labels(&[("amqdr.io/dr", "true"), ("app", "x")])));
        assert!(!s.matches(&labels(&[("amqdr.io/dr", "true"), ("app", "x"), ("tier", "test")])));
        assert!(!s.matches(&labels(&[("amqdr.io/dr", "false"), ("app", "x")])));
        assert!(Selector::parse("!legacy").unwrap().matches(&labels(&[])));
        assert!(Selector::parse("a==b").unwrap().matches(&labels(&[("a", "b")])));
        for (bad, says) in [
            ("", "empty term"),
            ("a=b,", "empty term"),
            ("-bad=x", "not a label key"),
            ("Upper.Case/x=y", "not a label key"),
            ("a=b c", "not a label value"),
            ("env in (a,b)", "set-based"),
        ] {
            let e = Selector::parse(bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
        assert!(Selection::default().selects(&labels(&[("amqdr.io/dr", "true")])));
        assert!(!Selection::default().selects(&labels(&[])));
    }

    #[test]
    fn a_generated_password_is_kept_and_copied_with_the_user() {
        let p = plan_user(&generated("orders-app"), None, &flow());
        assert_eq!(
            p.actions,
            [
                UserAction::KeepGeneratedPassword { site: SiteId::A, secret: "orders-app-dr-password".into() },
                UserAction::CopyPassword { site: SiteId::B, secret: "orders-app-dr-password".into(), key: "password".into() },
                UserAction::CreateUser { site: SiteId::B },
            ]
        );
        assert_eq!(p.problems, ["no KafkaUser on site b"]);
        // After the sync: the source points at amqdr's Secret, the target is its copy.
        let mut source = generated("orders-app");
        source.spec = wanted_spec(&source);
        source.desired_password = source.generated_password.clone();
        let copy = Live {
            labels: wanted_labels(&source, &flow()),
            spec: source.spec.clone(),
            desired_password: Some(digest("s3cret")),
            generated_password: None,
            ..source.clone()
        };
        let p = plan_user(&source, Some(&copy), &flow());
        assert!(p.in_step(), "{p:?}");
        assert!(drift(&[p], &flow()).is_empty());
    }

    #[test]
    fn acls_passwords_and_foreign_users_are_told_apart() {
        let mut source = generated("orders-app");
        source.spec = wanted_spec(&source);
        source.desired_password = Some(digest("new"));
        let mut copy = Live { labels: wanted_labels(&source, &flow()), desired_password: Some(digest("old")), ..source.clone() };
        copy.spec["authorization"]["acls"][0]["operations"] = json!(["Read"]);
        let p = plan_user(&source, Some(&copy), &flow());
        assert_eq!(
            p.actions,
            [
                UserAction::CopyPassword { site: SiteId::B, secret: "orders-app-dr-password".into(), key: "password".into() },
                UserAction::UpdateUser { site: SiteId::B, what: vec!["ACLs: 1 missing, 0 extra".into()] },
            ]
        );
        let d = drift(std::slice::from_ref(&p), &flow());
        assert_eq!(d.len(), 2, "{d:?}");
        assert!(d.iter().all(|d| d.site == SiteId::B && d.problem.ends_with("(`amqdr users sync`)")), "{d:?}");
        assert!(d[0].problem.contains("password differs") && d[1].problem.contains("ACLs differ"), "{d:?}");

        // Another Secret with the same value: copied before the copy names it, not a drift.
        let mut renamed = copy.clone();
        renamed.spec = source.spec.clone();
        renamed.spec["authentication"]["password"]["valueFrom"]["secretKeyRef"]["name"] = json!("old-secret");
        renamed.desired_password = source.desired_password.clone();
        let p = plan_user(&source, Some(&renamed), &flow());
        assert!(matches!(p.actions[0], UserAction::CopyPassword { .. }) && p.actions.len() == 2, "{p:?}");
        assert!(p.problems.iter().all(|x| !x.contains("password")), "{p:?}");

        // The target's own user of the same name is left alone, and said so.
        let own = Live { labels: labels(&[("strimzi.io/cluster", "my-second-cluster")]), ..copy.clone() };
        let p = plan_user(&source, Some(&own), &flow());
        assert!(p.actions.is_empty() && p.not_synced.as_deref().is_some_and(|n| n.contains("of its own")), "{p:?}");

        // tls users are named, not synced; missing on the target they are drift.
        let mut tls = generated("billing");
        tls.spec["authentication"]["type"] = json!("tls");
        let p = plan_user(&tls, None, &flow());
        assert_eq!(p.not_synced.as_deref(), Some("tls user; issue its certificate from site b's clients CA"));
        assert!(p.actions.is_empty() && p.problems.len() == 1);
    }

    #[test]
    fn the_selection_leaves_out_amqdrs_own_users_and_the_targets_originals() {
        let mut own = generated("my-user");
        own.labels.insert(MANAGED_BY_LABEL.into(), MANAGED_BY.into());
        let mut back = generated("made-on-b");
        back.labels.insert(COPY_OF_LABEL.into(), "b".into());
        let unlabelled = Live { labels: labels(&[("strimzi.io/cluster", "my-cluster")]), ..generated("other") };
        let mut orphan = generated("gone");
        orphan.labels.insert(COPY_OF_LABEL.into(), "a".into());
        let observed = Observed {
            source: vec![own, back.clone(), unlabelled, generated("orders-app")],
            target: BTreeMap::from([("made-on-b".into(), back), ("gone".into(), orphan)]),
        };
        let (plans, target_only) = plan(&observed, &Selection::default(), &flow());
        assert_eq!(plans.iter().map(|p| p.user.as_str()).collect::<Vec<_>>(), ["orders-app"]);
        assert_eq!(target_only, ["gone"]);
        let (plans, _) = plan(&observed, &Selection::All, &flow());
        assert_eq!(plans.iter().map(|p| p.user.as_str()).collect::<Vec<_>>(), ["other", "orders-app"]);
    }
}
