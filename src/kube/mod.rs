//! Everything that talks to Kubernetes: clients per cluster, server-side apply with amqdr's field
//! manager, readiness conditions and waits, and what is read from clusters before planning.

pub mod apply;
pub mod client;
pub mod cluster_state;
pub mod conditions;
pub mod object;
pub mod wait;
