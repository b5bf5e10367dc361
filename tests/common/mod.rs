//! The test harness: bringing up the kube and Kafka test beds and driving amqdr against them.
//! The stand-ins that play Strimzi, the kubelet and MirrorMaker are the `amqdr-standins` crate.

pub mod dr_pair;
pub mod kafka_testbed;
pub mod kube_testbed;
pub mod served;
