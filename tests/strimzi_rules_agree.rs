//! Two readings of Strimzi's `KafkaClusterSpec` rules for `spec.kafka.config`: amqdr's (it refuses
//! such keys in the settings) and the Kafka test bed's (it refuses a rendered Kafka carrying one).
//! They are kept apart on purpose; here they must give the same answer for every key either names,
//! its variants (a longer key, other case) and keys neither names.

use amqdr::profile::Profile;
use amqdr::strimzi_rules::{LISTENER_IDS, forbidden_kafka_config_prefix, named_config_keys};
use amqdr_standins::kafka_config::Release;

fn probes(profile: Profile, release: Release) -> Vec<String> {
    let mut keys: Vec<String> = named_config_keys(profile);
    keys.extend(release.owned_prefixes().iter().chain(release.exceptions().iter()).map(|k| k.to_string()));
    let mut out = Vec::new();
    for k in keys {
        out.push(format!("{k}x"));
        out.push(format!("{k}.extra"));
        out.push(k.to_uppercase());
        out.push(k);
    }
    out.extend(["log.retention.hours", "num.partitions", "auto.create.topics.enable", "default.replication.factor"].map(String::from));
    out.extend(LISTENER_IDS.iter().map(|id| format!("listener.name.{id}.ssl.keystore.location")));
    out
}

#[test]
fn amqdr_and_the_test_bed_read_strimzi_alike() {
    let listeners: Vec<String> = LISTENER_IDS.iter().map(|s| s.to_string()).collect();
    for (profile, release) in [(Profile::Legacy, Release::Legacy), (Profile::Current, Release::Current)] {
        let mut disagree = Vec::new();
        let probes = probes(profile, release);
        for key in &probes {
            let amqdr = forbidden_kafka_config_prefix(profile, key).is_some();
            let standin = release.owns(key, &listeners);
            if amqdr != standin {
                disagree.push(format!("{key}: amqdr {amqdr}, test bed {standin}"));
            }
        }
        assert!(disagree.is_empty(), "profile {profile}: the two readings differ on\n  {}", disagree.join("\n  "));
        assert!(probes.iter().any(|k| forbidden_kafka_config_prefix(profile, k).is_some()), "the probes include owned keys");
        assert!(probes.iter().any(|k| forbidden_kafka_config_prefix(profile, k).is_none()), "the probes include free keys");
    }
}
