//! Writing results to standard output (a closed pipe ends amqdr quietly).

use anyhow::{Context, Result};
use serde::Serialize;
use std::io::Write;

/// Write results to stdout. A closed pipe (`amqdr render -o yaml | head`) comes back as an
/// `io::Error` of kind BrokenPipe, which `main` turns into a quiet exit instead of a panic.
pub fn stdout(text: impl std::fmt::Display) -> Result<()> {
    let mut out = std::io::stdout().lock();
    write!(out, "{text}").and_then(|()| out.flush()).context("writing to standard output")
}

/// A result document as pretty JSON on stdout.
pub fn stdout_json(value: &impl Serialize) -> Result<()> {
    stdout(format_args!("{}\n", serde_json::to_string_pretty(value)?))
}

/// True when the error chain ends in a closed standard output.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe))
}

/// A plain table (no borders) with `header`, as every report of amqdr prints.
pub fn table(header: &[&str]) -> comfy_table::Table {
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::NOTHING);
    t.set_header(header.iter().copied());
    t
}
