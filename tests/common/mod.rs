pub mod kafka_testbed;
pub mod kube_testbed;
pub mod mirror_runtime;
pub mod standin;
pub mod topic_operator;
