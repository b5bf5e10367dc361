pub mod kube_testbed;
pub mod standin;
