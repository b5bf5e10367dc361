//! The HTTP endpoints of `serve` (axum): every answer comes from what the probe loops last
//! found, so a request never waits on Kafka or Kubernetes.

use super::Shared;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::sync::Arc;

const TEXT: &str = "text/plain; charset=utf-8";
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/livez", get(livez))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(shared)
}

fn text(code: u16, body: String) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    // Monitors must see the current answer, never a cached one.
    (status, [(header::CONTENT_TYPE, TEXT), (header::CACHE_CONTROL, "no-store")], body).into_response()
}

async fn health(State(shared): State<Arc<Shared>>) -> Response {
    let (code, body) = shared.health();
    text(code, body)
}

async fn livez() -> Response {
    text(200, "ok\n".into())
}

async fn readyz(State(shared): State<Arc<Shared>>) -> Response {
    if shared.ready() { text(200, "ready\n".into()) } else { text(503, "no probe round finished yet\n".into()) }
}

async fn metrics(State(shared): State<Arc<Shared>>) -> Response {
    (StatusCode::OK, [(header::CONTENT_TYPE, OPENMETRICS)], shared.metrics.encode()).into_response()
}
