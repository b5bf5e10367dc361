pub mod kafka_testbed;
pub mod kube_testbed;
pub mod listeners_validator;
pub mod mirror_runtime;
pub mod operator_fidelity;
pub mod served;
pub mod standin;
pub mod topic_operator;
