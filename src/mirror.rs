//! What MirrorMaker itself names and leaves out, independent of amqdr's settings: the cluster
//! aliases amqdr gives the two sides, the names MirrorMaker 2 gives its internal topics, the
//! topic configs it never copies, and how MirrorMaker 1 takes exclusions. The configuration amqdr
//! gives the mirror is in [`crate::render::mirror`].

pub const SOURCE_ALIAS: &str = "source";
pub const TARGET_ALIAS: &str = "target";
pub const IDENTITY_POLICY: &str = "org.apache.kafka.connect.mirror.IdentityReplicationPolicy";

/// The Kafka Connect storage topics of a mirror's workers named `mirror_name` (one worker group
/// per site).
pub fn connect_topics(mirror_name: &str) -> [String; 3] {
    let n = mirror_name;
    [format!("{n}-config"), format!("{n}-offsets"), format!("{n}-status")]
}

/// Topic configs MirrorMaker 2 never copies: replication throttles (per-cluster operations
/// settings), unclean leader election (a per-cluster durability choice) and the timestamp
/// difference bound of Kafka 3.x (removed in 4.0).
pub const CONFIG_PROPERTIES_EXCLUDE: &str = r"follower\.replication\.throttled\.replicas,leader\.replication\.throttled\.replicas,message\.timestamp\.difference\.max\.ms,unclean\.leader\.election\.enable";

/// Kafka's `MirrorSourceConfig.offsetSyncsTopic()`: named after the *other* cluster of where it
/// is kept, so on the target (`offset-syncs.topic.location: target`) after the source alias.
pub fn offset_syncs_topic() -> String {
    format!("mm2-offset-syncs.{SOURCE_ALIAS}.internal")
}

/// The checkpoints topic MirrorMaker 2 writes on the target (IdentityReplicationPolicy keeps
/// DefaultReplicationPolicy's `<source alias>.checkpoints.internal`).
pub fn checkpoints_topic() -> String {
    format!("{SOURCE_ALIAS}.checkpoints.internal")
}

/// MirrorMaker 1's `include` takes no exclusions: they are folded into the one pattern as a
/// negative lookahead, which Java's `Pattern` (MirrorMaker's `IncludeList`) understands.
pub fn fold_exclusions(include: &str, exclude: &[String]) -> String {
    if exclude.is_empty() {
        return include.to_string();
    }
    format!("(?!(?:{})$)(?:{include})", exclude.join("|"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirrormaker_1_include_carries_the_exclusions() {
        let excl = vec!["__.*".to_string(), r".*[\-\.]internal".into()];
        let folded = fold_exclusions(".*", &excl);
        assert_eq!(folded, r"(?!(?:__.*|.*[\-\.]internal)$)(?:.*)");
        // The same decision without a lookahead: not one of the exclusions, but the include.
        let include = regex::Regex::new("^(?:.*)$").unwrap();
        let exclude = regex::Regex::new(&format!("^(?:{})$", excl.join("|"))).unwrap();
        for (t, want) in [("orders", true), ("__consumer_offsets", false), ("mm2-offset-syncs.source.internal", false)] {
            assert_eq!(include.is_match(t) && !exclude.is_match(t), want, "{t}");
        }
    }
}
