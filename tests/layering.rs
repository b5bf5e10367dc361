//! The house of modules: `src/`'s top-level modules form layers, and imports only point down or
//! sideways within a layer, never in a circle. The commands sit on top and import no other
//! command; `cli` (clap) is the only module above them.
//!
//! The edges are read from the source: every `crate::<module>` path outside comments and outside
//! the `#[cfg(test)]` module at the end of a file (tests may reach across, e.g. to build a fixture).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Bottom to top. A module may import modules of its own layer or of layers below it.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "foundations",
        &[
            "error",
            "duration",
            "logging",
            "progress",
            "output",
            "profile",
            "assets",
            "strimzi_rules",
            "certs",
            "truststore",
            "scope",
            "mirror",
        ],
    ),
    ("settings", &["settings"]),
    ("identities and material", &["acl", "material"]),
    ("kubernetes", &["kube"]),
    ("record, kafka, rendering", &["record", "kafka", "render"]),
    ("plan", &["plan"]),
    ("commands", &["deploy", "verify", "dr", "serve"]),
    ("cli", &["cli"]),
];

const COMMANDS: &[&str] = &["deploy", "verify", "dr", "serve"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to (`src/dr/failover.rs` -> `dr`); None for the crate root.
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel.components().next()?.as_os_str().to_str()?.to_string();
    let name = first.strip_suffix(".rs").unwrap_or(&first).to_string();
    (!matches!(name.as_str(), "lib" | "main")).then_some(name)
}

/// The code of a file without comments and without its trailing `#[cfg(test)]` module.
fn code(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod ") {
        Some(at) => &text[..at],
        None => text,
    };
    text.lines().filter(|l| !l.trim_start().starts_with("//")).map(|l| l.split(" // ").next().unwrap()).collect::<Vec<_>>().join("\n")
}

/// `crate::<name>` paths in `code`.
fn referenced(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().last();
        rest = &rest[at + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        if !name.is_empty() {
            out.insert(name);
        }
    }
    // `use crate::{a, b::c}` groups.
    let mut rest = code;
    while let Some(at) = rest.find("crate::{") {
        rest = &rest[at + "crate::{".len()..];
        let group = &rest[..rest.find('}').unwrap_or(rest.len())];
        for item in group.split(',') {
            let name: String = item.trim().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if !name.is_empty() {
                out.insert(name);
            }
        }
    }
    out
}

/// Top-level module -> the top-level modules it imports.
fn edges() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let modules: BTreeSet<String> = files.iter().filter_map(|f| module_of(&src, f)).collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let Some(from) = module_of(&src, file) else { continue };
        let text = std::fs::read_to_string(file).unwrap();
        let to = edges.entry(from.clone()).or_default();
        for name in referenced(&code(&text)) {
            if name != from && modules.contains(&name) {
                to.insert(name);
            }
        }
    }
    edges
}

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|(_, members)| members.contains(&module))
}

/// One cycle through `start`, if any (depth-first search over the edges).
fn cycle_through(edges: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Option<Vec<String>> {
    fn walk(edges: &BTreeMap<String, BTreeSet<String>>, start: &str, path: &mut Vec<String>, seen: &mut BTreeSet<String>) -> bool {
        let here = path.last().unwrap().clone();
        for next in edges.get(&here).into_iter().flatten() {
            if next == start {
                path.push(next.clone());
                return true;
            }
            if seen.insert(next.clone()) {
                path.push(next.clone());
                if walk(edges, start, path, seen) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    let mut path = vec![start.to_string()];
    walk(edges, start, &mut path, &mut BTreeSet::new()).then_some(path)
}

#[test]
fn every_module_has_a_layer() {
    let unplaced: Vec<String> = edges().into_keys().filter(|m| layer_of(m).is_none()).collect();
    assert!(unplaced.is_empty(), "modules without a layer in tests/layering.rs: {unplaced:?}");
}

#[test]
fn imports_point_down() {
    let mut upward = Vec::new();
    for (from, tos) in edges() {
        let Some(here) = layer_of(&from) else { continue };
        for to in tos {
            let Some(there) = layer_of(&to) else { continue };
            if there > here {
                upward.push(format!("{from} ({}) imports {to} ({})", LAYERS[here].0, LAYERS[there].0));
            } else if COMMANDS.contains(&from.as_str()) && COMMANDS.contains(&to.as_str()) {
                upward.push(format!("command {from} imports command {to}: move what they share below the commands"));
            }
        }
    }
    assert!(upward.is_empty(), "imports against the layers:\n  {}", upward.join("\n  "));
}

#[test]
fn no_module_cycle() {
    let edges = edges();
    let cycles: Vec<String> = edges.keys().filter_map(|m| cycle_through(&edges, m)).map(|c| c.join(" -> ")).collect();
    assert!(cycles.is_empty(), "module cycles:\n  {}", cycles.join("\n  "));
}

#[test]
fn the_reader_finds_paths_and_groups() {
    let found = referenced(
        "use crate::kube::client::Cluster;\nuse crate::{acl, settings::Settings};\nlet x = crate::record::STATE;\nmy_crate::nope();",
    );
    assert_eq!(found, BTreeSet::from(["acl".into(), "kube".into(), "record".into(), "settings".into()]));
    assert_eq!(code("use crate::a;\n// crate::b\n#[cfg(test)]\nmod tests { use crate::c; }"), "use crate::a;");
}
