//! The mirror as amqdr configures it, run the way Strimzi runs it on real brokers: MirrorMaker 1
//! on the legacy test bed mirrors topics created after it started; on the kube test bed the
//! operator stand-in turns the KafkaMirrorMaker2 / KafkaMirrorMaker amqdr applies into real
//! Connect connectors / MirrorMaker 1 processes on a DR test bed instance.

mod common;

use common::kafka_testbed::kafka_exclusive;
use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use std::time::{Duration, Instant};

fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    format!("{prefix}-{}-{nanos:x}", std::process::id())
}

async fn create_topic(bootstrap: &str, topic: &str, partitions: i32) {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new().set("bootstrap.servers", bootstrap).create().unwrap();
    let results = admin.create_topics([&NewTopic::new(topic, partitions, TopicReplication::Fixed(1))], &AdminOptions::new()).await.unwrap();
    for r in results {
        r.unwrap_or_else(|(t, e)| panic!("creating {t}: {e}"));
    }
}

async fn produce(bootstrap: &str, topic: &str, count: usize) {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("acks", "all")
        .set("allow.auto.create.topics", "false")
        .create()
        .unwrap();
    for i in 0..count {
        let key = format!("k{i}");
        producer
            .send(FutureRecord::to(topic).key(&key).payload(&format!("record {i}")), Duration::from_secs(30))
            .await
            .unwrap_or_else(|(e, _)| panic!("producing to {topic}: {e}"));
    }
}

/// Records on `topic` at `bootstrap` (sum of high watermarks), 0 while the topic does not exist.
/// The metadata request never creates the topic.
fn records_on(bootstrap: &str, topic: &str) -> i64 {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "mirror-testbed-probe")
        .set("allow.auto.create.topics", "false")
        .create()
        .unwrap();
    let Ok(md) = consumer.fetch_metadata(Some(topic), Duration::from_secs(10)) else { return 0 };
    let Some(t) = md.topics().iter().find(|t| t.name() == topic && t.error().is_none()) else { return 0 };
    t.partitions()
        .iter()
        .map(|p| consumer.fetch_watermarks(topic, p.id(), Duration::from_secs(10)).map(|(_, high)| high).unwrap_or(0))
        .sum()
}

/// Issue 10, finding 1: a topic created on production after MirrorMaker 1 started reaches DR.
/// Before the fix the DR brokers refused to create it (auto-creation off), the mirror's producer
/// timed out and MirrorMaker 1 exited.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_topic_created_after_the_mirror_started_reaches_b() {
    let bed = kafka_exclusive("legacy");
    let topic = unique("late-topic");
    create_topic(&bed.plain_bootstrap("a"), &topic, 2).await;
    produce(&bed.plain_bootstrap("a"), &topic, 50).await;
    let b = bed.plain_bootstrap("b");
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut seen = 0;
    while Instant::now() < deadline {
        seen = records_on(&b, &topic);
        if seen >= 50 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(seen, 50, "records of {topic} on site b");
}
