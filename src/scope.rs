//! What DR protects: the mirror's scope. `mirror.include` (a Java regular expression, anchored
//! as MirrorMaker anchors it, always widened to the canary topic) minus `mirror.exclude` (by
//! default what MirrorMaker 2's `DefaultTopicFilter` excludes) minus the mirror's own topics
//! decides which topics are copied; everything that must reach those topics — the mirror's ACLs,
//! the DR operations user's, the coverage report of `status` — follows this one definition, not
//! the application's rights.
//!
//! Kafka ACLs know literal names and prefixes only. A pattern that is an alternation of names and
//! `prefix.*` becomes exactly those ACLs ([`Scope::acl_patterns`]); any other expression cannot
//! be narrowed and is granted as every topic (the settings warn about it, naming the key).

use anyhow::{Context, Result};
use regex::Regex;
use regex_syntax::hir::{Class, Hir, HirKind};

/// A topic or group entry of an ACL: literal, prefix (`x*`) or all (`*`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum NamePattern {
    Literal(String),
    Prefix(String),
    All,
}

impl NamePattern {
    /// `user.topics` / `user.groups` syntax: a name, a prefix ending in `*`, or `*`.
    pub fn parse(text: &str) -> Result<NamePattern, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("an empty name".into());
        }
        if text == "*" {
            return Ok(NamePattern::All);
        }
        let (body, prefix) = match text.strip_suffix('*') {
            Some(body) => (body, true),
            None => (text, false),
        };
        if body.contains('*') {
            return Err(format!("{text:?}: `*` may only end a prefix (e.g. `orders-*`) or stand alone"));
        }
        if let Some(bad) = body.chars().find(|c| !is_name_char(*c)) {
            return Err(format!("{text:?}: {bad:?} is not allowed in Kafka topic or group names used here (letters, digits, . _ -)"));
        }
        Ok(if prefix { NamePattern::Prefix(body.into()) } else { NamePattern::Literal(body.into()) })
    }

    /// Whether a concrete name falls under the pattern (as Kafka's authorizer matches it).
    pub fn matches(&self, name: &str) -> bool {
        match self {
            NamePattern::Literal(n) => n == name,
            NamePattern::Prefix(p) => name.starts_with(p.as_str()),
            NamePattern::All => true,
        }
    }
}

impl std::fmt::Display for NamePattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NamePattern::Literal(n) => f.write_str(n),
            NamePattern::Prefix(p) => write!(f, "{p}*"),
            NamePattern::All => f.write_str("*"),
        }
    }
}

/// Characters of a legal Kafka topic name.
fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
}

/// How the topics in scope can be named to Kafka's authorizer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AclScope {
    /// Exactly these literals and prefixes.
    Exact(Vec<NamePattern>),
    /// The pattern is no alternation of names and prefixes: only "every name" covers it,
    /// which grants more than the scope.
    Everything,
}

impl AclScope {
    pub fn patterns(&self) -> Vec<NamePattern> {
        match self {
            AclScope::Exact(p) => p.clone(),
            AclScope::Everything => vec![NamePattern::All],
        }
    }
}

/// The topics the mirror copies.
#[derive(Debug, Clone)]
pub struct Scope {
    include_text: String,
    include: Regex,
    exclude: Regex,
}

fn anchored(pattern: &str) -> Result<Regex> {
    Regex::new(&format!("^(?:{pattern})$")).with_context(|| format!("pattern {pattern:?}"))
}

impl Scope {
    /// A scope from an include pattern and a list of exclude patterns.
    pub fn new(include: &str, exclude: &[String]) -> Result<Scope> {
        let exclude_text = if exclude.is_empty() { "[^\\s\\S]".to_string() } else { exclude.join("|") };
        Ok(Scope { include_text: include.to_string(), include: anchored(include)?, exclude: anchored(&exclude_text)? })
    }

    /// Whether the mirror copies `topic`.
    pub fn covers(&self, topic: &str) -> bool {
        self.include.is_match(topic) && !self.exclude.is_match(topic)
    }

    /// Whether `topic` is left out by an exclusion (rather than by the include pattern).
    pub fn excludes(&self, topic: &str) -> bool {
        self.exclude.is_match(topic)
    }

    pub fn includes(&self, topic: &str) -> bool {
        self.include.is_match(topic)
    }

    /// The ACL resources that cover the include pattern.
    pub fn acl_patterns(&self) -> AclScope {
        acl_scope(&self.include_text)
    }
}

/// How a MirrorMaker pattern (topics or groups) is granted: exact names and prefixes when it is
/// an alternation of them, every name otherwise.
pub fn acl_scope(pattern: &str) -> AclScope {
    let Ok(hir) = regex_syntax::Parser::new().parse(pattern) else { return AclScope::Everything };
    match expand(&hir) {
        Some(pieces) => {
            let mut out: Vec<NamePattern> = Vec::new();
            for piece in pieces {
                let p = match piece {
                    Piece::Exact(s) if s.is_empty() => continue,
                    Piece::Exact(s) => NamePattern::Literal(s),
                    Piece::Prefix(s) if s.is_empty() => return AclScope::Exact(vec![NamePattern::All]),
                    Piece::Prefix(s) => NamePattern::Prefix(s),
                };
                if !out.contains(&p) {
                    out.push(p);
                }
            }
            if out.is_empty() { AclScope::Everything } else { AclScope::Exact(out) }
        }
        None => AclScope::Everything,
    }
}

/// What a pattern denotes over legal topic names, when it is a finite set of names and prefixes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Exact(String),
    Prefix(String),
}

/// More alternatives than this are granted as every topic (an ACL list that long is a mistake).
const MAX_PIECES: usize = 64;

fn expand(hir: &Hir) -> Option<Vec<Piece>> {
    let out = match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => vec![Piece::Exact(String::new())],
        HirKind::Literal(lit) => vec![Piece::Exact(String::from_utf8(lit.0.to_vec()).ok()?)],
        HirKind::Class(class) => class_chars(class)?.into_iter().map(|c| Piece::Exact(c.to_string())).collect(),
        HirKind::Repetition(rep) => {
            // `.*`, `.+`, `[a-z0-9._-]*`: any suffix of a topic name (`+` grants the prefix itself
            // too, one name more than the scope).
            if rep.min <= 1 && rep.max.is_none() && matches!(rep.sub.kind(), HirKind::Class(c) if any_name_char(c)) {
                vec![Piece::Prefix(String::new())]
            } else {
                return None;
            }
        }
        HirKind::Capture(cap) => expand(&cap.sub)?,
        HirKind::Concat(items) => {
            let mut acc = vec![Piece::Exact(String::new())];
            for item in items {
                let next = expand(item)?;
                let mut joined = Vec::new();
                for a in &acc {
                    let Piece::Exact(head) = a else { return None };
                    for b in &next {
                        joined.push(match b {
                            Piece::Exact(t) => Piece::Exact(format!("{head}{t}")),
                            Piece::Prefix(t) => Piece::Prefix(format!("{head}{t}")),
                        });
                    }
                }
                if joined.len() > MAX_PIECES {
                    return None;
                }
                acc = joined;
            }
            acc
        }
        HirKind::Alternation(items) => {
            let mut out = Vec::new();
            for item in items {
                out.extend(expand(item)?);
            }
            out
        }
    };
    (out.len() <= MAX_PIECES).then_some(out)
}

/// Whether a class matches every character a topic name can have.
fn any_name_char(class: &Class) -> bool {
    let legal = ('a'..='z').chain('A'..='Z').chain('0'..='9').chain(['.', '_', '-']);
    let mut chars = legal.map(|c| c.to_string());
    match class {
        Class::Unicode(u) => chars.all(|c| {
            let ch = c.chars().next().unwrap_or_default();
            u.ranges().iter().any(|r| r.start() <= ch && ch <= r.end())
        }),
        Class::Bytes(b) => chars.all(|c| {
            let byte = c.as_bytes()[0];
            b.ranges().iter().any(|r| r.start() <= byte && byte <= r.end())
        }),
    }
}

/// The legal topic-name characters of a small class (`[ab]`, or what `a|b` becomes), or None.
fn class_chars(class: &Class) -> Option<Vec<char>> {
    let mut out = Vec::new();
    match class {
        Class::Unicode(u) => {
            for r in u.ranges() {
                if (r.end() as u32) - (r.start() as u32) > MAX_PIECES as u32 {
                    return None;
                }
                out.extend((r.start()..=r.end()).filter(|c| is_name_char(*c)));
            }
        }
        Class::Bytes(b) => {
            for r in b.ranges() {
                if usize::from(r.end() - r.start()) > MAX_PIECES {
                    return None;
                }
                out.extend((r.start()..=r.end()).map(char::from).filter(|c| is_name_char(*c)));
            }
        }
    }
    (out.len() <= MAX_PIECES).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exact(p: &str) -> Vec<String> {
        match acl_scope(p) {
            AclScope::Exact(v) => v.iter().map(|p| p.to_string()).collect(),
            AclScope::Everything => vec!["<everything>".into()],
        }
    }

    #[test]
    fn patterns_parse_literal_prefix_and_all() {
        assert_eq!(NamePattern::parse("orders").unwrap(), NamePattern::Literal("orders".into()));
        assert_eq!(NamePattern::parse("orders-*").unwrap(), NamePattern::Prefix("orders-".into()));
        assert_eq!(NamePattern::parse("*").unwrap(), NamePattern::All);
        assert!(NamePattern::parse("a*b").unwrap_err().contains("prefix"));
        assert!(NamePattern::parse("a b").is_err());
        assert!(NamePattern::parse("").is_err());
        assert!(NamePattern::Prefix("console-consumer-".into()).matches("console-consumer-123"));
    }

    #[test]
    fn alternations_of_names_and_prefixes_are_exact() {
        assert_eq!(exact(r"orders|payments\..*"), ["orders", "payments.*"]);
        assert_eq!(exact(r"my-topic|amqdr\-canary"), ["my-topic", "amqdr-canary"]);
        assert_eq!(exact(r"(?:orders|orbit)-.*"), ["orders-*", "orbit-*"]);
        assert_eq!(exact(r"^orders$"), ["orders"]);
        assert_eq!(exact(r"orders-[ab]"), ["orders-a", "orders-b"]);
        assert_eq!(exact(r"logs\.[a-zA-Z0-9._-]*"), ["logs.*"]);
        assert_eq!(exact(r"app-.+"), ["app-*"]);
    }

    #[test]
    fn other_expressions_cover_everything() {
        assert_eq!(exact(".*"), ["*"]);
        assert_eq!(exact(".*|amqdr-canary"), ["*"]);
        for p in [r"orders\..*\.eu", "[a-z]+-topic", "a{2,5}", r"\d+"] {
            assert_eq!(acl_scope(p), AclScope::Everything, "{p}");
        }
    }
}
