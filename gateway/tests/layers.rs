//! The gateway's modules depend on each other one way only, along the data
//! path: socket → session → intake → spool → queue → delivery, with the
//! audit log beside and the policy below. This test reads the sources and
//! fails when a module reaches for one it must not (an upward import, or
//! one that would make a cycle).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// What each top-level module may import from the crate (besides itself).
/// A module missing here may import nothing.
const ALLOWED: &[(&str, &[&str])] = &[
    // Leaves.
    ("date", &[]),
    ("fsmode", &[]),
    ("metrics", &[]),
    ("policy", &[]),
    ("smtp", &[]),
    ("pdf", &[]),
    ("tls", &[]),
    ("auth", &[]),
    ("http", &["metrics"]),
    // The audit log writes the records it is given.
    ("audit", &["date", "fsmode", "metrics", "tls"]),
    // The spool stores what intake decided, against an audit receipt.
    ("spool", &["audit", "fsmode", "smtp"]),
    // One message to one next hop.
    ("delivery", &["date", "fsmode", "policy", "smtp", "tls"]),
    // Messages the gateway writes.
    (
        "outbox",
        &["audit", "date", "metrics", "policy", "smtp", "spool"],
    ),
    (
        "queue",
        &[
            "audit", "date", "delivery", "fsmode", "metrics", "outbox", "policy", "report", "smtp",
            "spool",
        ],
    ),
    (
        "intake",
        &[
            "audit", "date", "metrics", "outbox", "policy", "smtp", "spool",
        ],
    ),
    // The monthly report reads the audit log.
    ("report", &["audit", "date", "policy"]),
    // The composition root.
    (
        "app",
        &["audit", "delivery", "pdf", "policy", "queue", "smtp", "tls"],
    ),
    // The administrators' console: reads what the CLI reads, acts through
    // the queue manager.
    (
        "console",
        &[
            "app", "audit", "auth", "date", "intake", "metrics", "queue", "report", "spool", "tls",
        ],
    ),
    (
        "server",
        &[
            "app", "audit", "auth", "console", "date", "http", "intake", "metrics", "outbox",
            "queue", "smtp", "spool", "tls",
        ],
    ),
    (
        "cli",
        &[
            "app", "audit", "auth", "console", "date", "delivery", "fsmode", "intake", "policy",
            "queue", "report", "server", "smtp", "spool",
        ],
    ),
];

/// `crate::x` references per top-level module, test modules left out.
fn imports(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            if p.extension().is_none_or(|x| x != "rs") {
                continue;
            }
            let rel = p.strip_prefix(src).unwrap();
            let top = rel
                .components()
                .next()
                .unwrap()
                .as_os_str()
                .to_string_lossy()
                .trim_end_matches(".rs")
                .to_string();
            if ["lib", "main", "tests"].contains(&top.as_str()) || rel.ends_with("tests.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&p).unwrap();
            let text = match text.find("#[cfg(test)]\nmod tests {") {
                Some(i) => &text[..i],
                None => &text[..],
            };
            let entry = out.entry(top.clone()).or_default();
            for (i, _) in text.match_indices("crate::") {
                let name: String = text[i + 7..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() && name != top {
                    entry.insert(name);
                }
            }
        }
    }
    out
}

#[test]
fn modules_import_only_what_sits_below_them() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let found = imports(&src);
    let allowed: BTreeMap<&str, BTreeSet<&str>> = ALLOWED
        .iter()
        .map(|(m, deps)| (*m, deps.iter().copied().collect()))
        .collect();
    let mut wrong = Vec::new();
    for (module, deps) in &found {
        let ok = allowed.get(module.as_str()).cloned().unwrap_or_default();
        for d in deps {
            if !ok.contains(d.as_str()) {
                wrong.push(format!("{module} -> {d}"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the layering (update ALLOWED only if the design changed): {wrong:?}"
    );
}

#[test]
fn the_allowed_imports_have_no_cycle() {
    let graph: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    fn visit<'a>(
        n: &'a str,
        graph: &BTreeMap<&'a str, &'a [&'a str]>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) {
        if done.contains(n) {
            return;
        }
        assert!(!path.contains(&n), "cycle: {path:?} -> {n}");
        path.push(n);
        for d in graph.get(n).copied().unwrap_or(&[]) {
            visit(d, graph, path, done);
        }
        path.pop();
        done.insert(n);
    }
    let mut done = BTreeSet::new();
    for n in graph.keys() {
        visit(n, &graph, &mut Vec::new(), &mut done);
    }
}
