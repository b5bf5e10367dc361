//! The test beds' stand-ins for what runs pods in a real cluster: Strimzi's cluster operator
//! (with its validation, as read from Strimzi's source at our releases), User and Topic Operators,
//! the kubelet, and MirrorMaker run as Strimzi runs it. amqdr's tests start them beside the real
//! kube-apiserver and Kafka brokers; amqdr itself never knows it is in a test.
//!
//! Binaries: `operator-standin` (the operator stand-in as a process, for benchmarks) and
//! `testbed-kafka` (the Kafka test bed's broker config, users, topics and mirror from a rendered
//! Plan).

pub mod kafka_config;
pub mod listeners_validator;
pub mod mirror_runtime;
pub mod operator_fidelity;
pub mod standin;
pub mod topic_operator;
pub mod user_operator;
