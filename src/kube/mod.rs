//! Everything that talks to Kubernetes: clients per cluster, the apply path, waits, the Plan
//! executor, and what is read from clusters before planning.

pub mod apply;
pub mod client;
pub mod cluster_state;
pub mod conditions;
pub mod executor;
pub mod teardown;
pub mod wait;
