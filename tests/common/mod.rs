pub mod kafka_testbed;
pub mod kube_testbed;
pub mod standin;
