pub mod kafka_testbed;
pub mod kube_testbed;
pub mod served;
pub mod standin;
