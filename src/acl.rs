//! Least privilege: the Kafka identities amqdr deploys in each site and the ACLs of each, as
//! `spec.authorization` of their KafkaUsers (Strimzi's simple authorization).
//!
//! - the application user (`user.name`): its topics and groups, the same on both sites so that
//!   clients keep their rights through a failover; Write is withdrawn on a fenced site;
//! - the mirror (`mirror.name`): read-only where it copies from, write where it copies to, on
//!   the topics of its scope (`crate::scope`), whatever the application may use;
//! - DR operations (`dr.user`): what failover and failback do to topics and groups, on every topic
//!   in scope and the application's.
//!
//! The mirror's lists follow Strimzi's documentation of the ACLs MirrorMaker 2 needs ("Securing
//! Kafka MirrorMaker 2": source and target users) and the Admin calls of Kafka's
//! `MirrorSourceConnector`, `MirrorCheckpointConnector` and Connect's `KafkaBasedLog`, with the
//! offset-syncs topic on the target (`offset-syncs.topic.location: target`), so the source user
//! never writes. MirrorMaker 1 (`kafka.tools.MirrorMaker`) is a consumer group on the source and
//! a producer on the target that relies on broker auto-creation (Create).

use crate::mirror;
use crate::profile::MirrorKind;
use crate::settings::{Settings, SiteId};
use serde_json::{Value, json};

pub use crate::scope::NamePattern;

fn resource(pattern: &NamePattern, kind: &str) -> Value {
    match pattern {
        NamePattern::Literal(n) => json!({"type": kind, "name": n, "patternType": "literal"}),
        NamePattern::Prefix(p) => json!({"type": kind, "name": p, "patternType": "prefix"}),
        NamePattern::All => json!({"type": kind, "name": "*", "patternType": "literal"}),
    }
}

/// Who a connection acts as: each purpose has its own KafkaUser and password Secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// `verify` and `serve`: what clients do.
    Application,
    /// `status`, `failover`, `failback`.
    DrOperations,
    /// The mirror itself (`verify acl` proves what it cannot do).
    Mirror,
}

impl Purpose {
    pub fn user(self, settings: &Settings) -> String {
        match self {
            Purpose::Application => settings.user.name.clone(),
            Purpose::DrOperations => settings.dr.user.clone(),
            Purpose::Mirror => settings.mirror.name.clone(),
        }
    }

    pub fn password_secret(self, settings: &Settings) -> String {
        match self {
            Purpose::Application => crate::acl::user_password_secret(settings),
            Purpose::DrOperations => dr_password_secret(settings),
            Purpose::Mirror => mirror_password_secret(settings),
        }
    }
}

/// Which way the mirror copies, as the users of both sites are granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MirrorRights {
    pub source: SiteId,
}

impl MirrorRights {
    pub fn forward() -> MirrorRights {
        MirrorRights { source: SiteId::A }
    }
    pub fn from_source(source: SiteId) -> MirrorRights {
        MirrorRights { source }
    }
}

/// What one site's identities may do: which way the mirror copies and whether the site is fenced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SiteRights {
    pub mirror: MirrorRights,
    /// A former primary: the application may read but not write here until failback.
    pub fenced: bool,
}

impl Default for SiteRights {
    fn default() -> Self {
        SiteRights { mirror: MirrorRights::forward(), fenced: false }
    }
}

/// One identity of a site: its KafkaUser name, its password Secret and its ACLs.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    pub purpose: &'static str,
    pub name: String,
    pub password_secret: String,
    pub acls: Vec<Value>,
}

fn acl(resource: Value, operations: &[&str]) -> Value {
    json!({"type": "allow", "resource": resource, "operations": operations, "host": "*"})
}

fn topic(name: &str) -> Value {
    resource(&NamePattern::Literal(name.into()), "topic")
}

fn group(name: &str) -> Value {
    resource(&NamePattern::Literal(name.into()), "group")
}

fn cluster() -> Value {
    json!({"type": "cluster"})
}

/// The application's topic patterns: `topic.name`, the canary topic, then `user.topics`.
pub fn application_topics(settings: &Settings) -> Vec<NamePattern> {
    let mut out = vec![NamePattern::Literal(settings.topic.name.clone()), NamePattern::Literal(settings.canary_topic().into())];
    for t in &settings.user.topics {
        if let Ok(p) = NamePattern::parse(t)
            && !out.contains(&p)
        {
            out.push(p);
        }
    }
    out
}

pub fn application_groups(settings: &Settings) -> Vec<NamePattern> {
    let mut out = Vec::new();
    for g in &settings.user.groups {
        if let Ok(p) = NamePattern::parse(g)
            && !out.contains(&p)
        {
            out.push(p);
        }
    }
    out
}

/// The topics in the mirror's scope as ACL resources: `mirror.include` (with the canary topic)
/// when it is names and prefixes, else every topic (the settings warn, naming the key).
pub fn mirrored_topics(settings: &Settings) -> Vec<NamePattern> {
    crate::scope::acl_scope(&settings.mirror_include()).patterns()
}

/// The consumer groups whose offsets the mirror carries (`mirror.groupsPattern`), likewise.
pub fn mirrored_groups(settings: &Settings) -> Vec<NamePattern> {
    crate::scope::acl_scope(&settings.mirror.groups_pattern).patterns()
}

/// `a` then those of `b` not in `a`.
fn union(a: Vec<NamePattern>, b: Vec<NamePattern>) -> Vec<NamePattern> {
    if a.contains(&NamePattern::All) || b.contains(&NamePattern::All) {
        return vec![NamePattern::All];
    }
    let mut out = a;
    for p in b {
        if !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

/// The mirror's progress that `status`, `serve` and `verify` read to measure lag: MirrorMaker 2's
/// Connect offsets topic (in the target site), MirrorMaker 1's consumer group (in the source).
fn mirror_progress(settings: &Settings, site: SiteId, rights: SiteRights) -> Vec<Value> {
    match settings.mirror_kind() {
        MirrorKind::KafkaMirrorMaker2 if site != rights.mirror.source => {
            vec![acl(topic(&mirror::connect_topics(&settings.mirror.name)[1]), &["Read", "Describe"])]
        }
        MirrorKind::KafkaMirrorMaker if site == rights.mirror.source => {
            vec![acl(group(&settings.mirror_group_id()), &["Describe"])]
        }
        _ => Vec::new(),
    }
}

pub fn application(settings: &Settings, site: SiteId, rights: SiteRights) -> Identity {
    let topic_ops: &[&str] = if rights.fenced { &["Read", "Describe"] } else { &["Read", "Write", "Describe"] };
    let mut acls: Vec<Value> = application_topics(settings).iter().map(|t| acl(resource(t, "topic"), topic_ops)).collect();
    acls.extend(application_groups(settings).iter().map(|g| acl(resource(g, "group"), &["Read", "Describe"])));
    acls.extend(mirror_progress(settings, site, rights));
    Identity { purpose: "application", name: settings.user.name.clone(), password_secret: crate::acl::user_password_secret(settings), acls }
}

pub fn mirror(settings: &Settings, site: SiteId, rights: SiteRights) -> Identity {
    let topics = mirrored_topics(settings);
    let is_source = site == rights.mirror.source;
    let mut acls = Vec::new();
    match (settings.mirror_kind(), is_source) {
        (MirrorKind::KafkaMirrorMaker2, true) => {
            // MirrorSourceConnector: list and describe the topics, read their records; the
            // checkpoint connector lists groups and reads their offsets.
            acls.extend(topics.iter().map(|t| acl(resource(t, "topic"), &["Read", "Describe", "DescribeConfigs"])));
            acls.extend(mirrored_groups(settings).iter().map(|g| acl(resource(g, "group"), &["Describe"])));
            acls.push(acl(cluster(), &["Describe"]));
        }
        (MirrorKind::KafkaMirrorMaker2, false) => {
            // Remote topics: created and kept in shape by the source connector, written by its tasks.
            // Read: the checkpoint tasks commit translated group offsets (sync.group.offsets.enabled),
            // and Kafka authorizes an OffsetCommit with Read on each of its topics.
            acls.extend(
                topics.iter().map(|t| {
                    acl(resource(t, "topic"), &["Create", "Read", "Write", "Describe", "DescribeConfigs", "Alter", "AlterConfigs"])
                }),
            );
            // Connect's storage topics and worker group.
            for t in mirror::connect_topics(&settings.mirror.name) {
                acls.push(acl(topic(&t), &["Create", "Read", "Write", "Describe", "DescribeConfigs"]));
            }
            acls.push(acl(group(&format!("{}-connect", settings.mirror.name)), &["Read", "Describe"]));
            // Offset syncs (written by the source tasks, read by the checkpoint tasks) and checkpoints.
            for t in [mirror::offset_syncs_topic(), mirror::checkpoints_topic()] {
                acls.push(acl(topic(&t), &["Create", "Read", "Write", "Describe", "DescribeConfigs"]));
            }
            // Translated group offsets written to DR (sync.group.offsets.enabled).
            acls.extend(mirrored_groups(settings).iter().map(|g| acl(resource(g, "group"), &["Read", "Describe"])));
            acls.push(acl(cluster(), &["Describe"]));
        }
        (MirrorKind::KafkaMirrorMaker, true) => {
            acls.extend(topics.iter().map(|t| acl(resource(t, "topic"), &["Read", "Describe"])));
            acls.push(acl(group(&settings.mirror_group_id()), &["Read", "Describe"]));
        }
        (MirrorKind::KafkaMirrorMaker, false) => {
            // Create: the producer's metadata request creates a new topic (auto.create.topics.enable).
            acls.extend(topics.iter().map(|t| acl(resource(t, "topic"), &["Create", "Write", "Describe"])));
        }
    }
    Identity { purpose: "mirror", name: settings.mirror.name.clone(), password_secret: mirror_password_secret(settings), acls }
}

/// DR operations: drain and compare the mirrored topics, recreate them empty for a failback
/// (Create, Delete, DescribeConfigs), move consumer groups (Read on groups and topics), read the
/// mirror's progress and checkpoints. No Write on client topics: records only come from clients
/// and the mirror.
pub fn operations(settings: &Settings, _site: SiteId, _rights: SiteRights) -> Identity {
    // Every topic in scope, on both sites: drain, compare and recreate what the mirror copies.
    let mut acls: Vec<Value> = union(application_topics(settings), mirrored_topics(settings))
        .iter()
        // Alter (CreatePartitions) and AlterConfigs: `mirror sync-topics` keeps DR's topics in step.
        .map(|t| acl(resource(t, "topic"), &["Read", "Describe", "DescribeConfigs", "Create", "Delete", "Alter", "AlterConfigs"]))
        .collect();
    acls.extend(
        union(application_groups(settings), mirrored_groups(settings))
            .iter()
            .map(|g| acl(resource(g, "group"), &["Read", "Describe", "Delete"])),
    );
    // The mirror's progress and checkpoints, in whichever site the mirror runs.
    for t in [mirror::connect_topics(&settings.mirror.name)[1].clone(), mirror::checkpoints_topic()] {
        acls.push(acl(topic(&t), &["Read", "Describe"]));
    }
    // MirrorMaker 1's start position is its group's committed offsets (failback sets them).
    acls.push(acl(group(&settings.mirror_group_id()), &["Read", "Describe"]));
    acls.push(acl(group(&format!("{}-connect", settings.mirror.name)), &["Describe"]));
    // No cluster Describe: listing groups then shows only the groups above, the ones DR moves.
    Identity { purpose: "dr-operations", name: settings.dr.user.clone(), password_secret: dr_password_secret(settings), acls }
}

/// The name of the Secret holding the user's SCRAM password (input to the KafkaUser).
pub fn user_password_secret(settings: &Settings) -> String {
    format!("{}-password", settings.user.name)
}

pub fn mirror_password_secret(settings: &Settings) -> String {
    format!("{}-password", settings.mirror.name)
}

pub fn dr_password_secret(settings: &Settings) -> String {
    format!("{}-password", settings.dr.user)
}

/// Every identity of a site, in apply order.
pub fn identities(settings: &Settings, site: SiteId, rights: SiteRights) -> Vec<Identity> {
    let mut out = vec![application(settings, site, rights), operations(settings, site, rights)];
    if settings.mirror.enabled {
        out.push(mirror(settings, site, rights));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Profile;

    fn ops_on(identity: &Identity, kind: &str, name: &str) -> Vec<String> {
        identity
            .acls
            .iter()
            .filter(|a| {
                // As Kafka's authorizer matches: `*` literal is every name, prefixes by prefix.
                let r = &a["resource"];
                r["type"] == kind
                    && r["name"].as_str().is_none_or(|n| match r["patternType"].as_str() {
                        Some("prefix") => name.starts_with(n),
                        _ => n == "*" || n == name,
                    })
            })
            .flat_map(|a| a["operations"].as_array().unwrap().iter().map(|o| o.as_str().unwrap().to_string()))
            .collect()
    }

    #[test]
    fn application_rights_are_the_same_on_both_sites_and_fencing_withdraws_write() {
        let s = Settings::default();
        let a = application(&s, SiteId::A, SiteRights::default());
        let b = application(&s, SiteId::B, SiteRights::default());
        let client =
            |i: &Identity| i.acls.iter().filter(|x| x["resource"]["name"] != "my-mirrormaker-offsets").cloned().collect::<Vec<_>>();
        assert_eq!(client(&a), client(&b));
        assert!(ops_on(&a, "topic", "my-topic").contains(&"Write".to_string()));
        let fenced = application(&s, SiteId::A, SiteRights { fenced: true, ..SiteRights::default() });
        assert_eq!(ops_on(&fenced, "topic", "my-topic"), ["Read", "Describe"]);
        assert_eq!(ops_on(&a, "group", "console-consumer-"), ["Read", "Describe"]);
    }

    #[test]
    fn the_mirror_only_reads_its_source() {
        for profile in [Profile::Legacy, Profile::Current] {
            let s = Settings { profile, ..Settings::default() };
            let source = mirror(&s, SiteId::A, SiteRights::default());
            let ops: Vec<String> =
                source.acls.iter().flat_map(|a| a["operations"].as_array().unwrap().clone()).map(|o| o.as_str().unwrap().into()).collect();
            for forbidden in ["Write", "Create", "Delete", "Alter", "AlterConfigs", "All"] {
                assert!(!ops.contains(&forbidden.to_string()), "{profile}: source rights include {forbidden}: {ops:?}");
            }
            let target = mirror(&s, SiteId::B, SiteRights::default());
            assert!(ops_on(&target, "topic", "my-topic").contains(&"Write".to_string()));
            if profile == Profile::Current {
                // The topic MirrorSourceTask writes with offset-syncs.topic.location=target.
                assert!(ops_on(&target, "topic", "mm2-offset-syncs.source.internal").contains(&"Write".to_string()));
            }
            // Reversed for failback: b is read from, a written to.
            let reversed = SiteRights { mirror: MirrorRights::from_source(SiteId::B), fenced: false };
            assert_eq!(mirror(&s, SiteId::B, reversed).acls, source.acls);
        }
    }

    #[test]
    fn operations_never_write_client_topics() {
        let s = Settings::default();
        let ops = operations(&s, SiteId::A, SiteRights::default());
        assert!(!ops_on(&ops, "topic", "my-topic").contains(&"Write".to_string()));
        assert!(ops_on(&ops, "topic", "my-topic").contains(&"Delete".to_string()));
    }

    #[test]
    fn the_mirror_and_dr_operations_follow_the_scope_not_the_application() {
        let mut s = Settings::default();
        // Default scope `.*`: every topic, although the application may use only its own.
        let source = mirror(&s, SiteId::A, SiteRights::default());
        assert_eq!(ops_on(&source, "topic", "*"), ["Read", "Describe", "DescribeConfigs"]);
        assert!(ops_on(&operations(&s, SiteId::B, SiteRights::default()), "topic", "orders").contains(&"Describe".to_string()));
        // Names and prefixes: exactly those, and the canary topic.
        s.mirror.include = r"my-topic|orders\..*".into();
        let source = mirror(&s, SiteId::A, SiteRights::default());
        let names: Vec<(String, String)> = source
            .acls
            .iter()
            .filter(|a| a["resource"]["type"] == "topic")
            .map(|a| (a["resource"]["name"].as_str().unwrap().into(), a["resource"]["patternType"].as_str().unwrap().into()))
            .collect();
        let want = [("my-topic", "literal"), ("orders.", "prefix"), ("amqdr-canary", "literal")];
        assert_eq!(names, want.map(|(n, p)| (n.to_string(), p.to_string())));
        let ops = operations(&s, SiteId::A, SiteRights::default());
        assert!(ops.acls.iter().any(|a| a["resource"]["name"] == "orders." && a["resource"]["patternType"] == "prefix"));
    }
}
