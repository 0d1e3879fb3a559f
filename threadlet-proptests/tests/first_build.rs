//! The first command of the README, `cargo run --example baozi`, builds
//! threadlet with its normal and dev-dependencies (cargo builds every
//! dev-dependency for an example) and nothing else (issue 13 item 10): the
//! benches' peers live in the `threadlet-benches` package and proptest in
//! this one, so a fresh clone's first run compiles neither. This test reads
//! that dependency graph with `cargo tree` (offline: the graph is already
//! resolved by the `cargo test` that runs it) and fails when a heavy
//! dependency creeps back into it.

use std::path::Path;
use std::process::Command;

/// Crates that only the benches or the property tests need.
const NOT_FOR_THE_FIRST_BUILD: &[&str] = &[
    "criterion",
    "flume",
    "async-channel",
    "async-lock",
    "event-listener",
    "proptest",
    "regex-syntax",
    "num-traits",
];

/// `cargo tree` of threadlet (default features) with its dev-dependencies,
/// one crate name per line.
fn example_build_crates() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(&root)
        .args(["tree", "--offline", "-e", "normal,dev", "-p", "threadlet"])
        .args(["--prefix", "none", "--format", "{p}"])
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut names: Vec<String> = String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .filter_map(|line| line.split_whitespace().next().map(str::to_owned))
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

#[test]
fn the_example_build_has_no_bench_or_proptest_dependencies() {
    let crates = example_build_crates();
    // The graph was read: threadlet and the runtime it runs on are in it.
    for needed in ["threadlet", "tokio", "threadlet-macros"] {
        assert!(
            crates.iter().any(|c| c == needed),
            "{needed} missing: {crates:?}"
        );
    }
    let heavy: Vec<&&str> = NOT_FOR_THE_FIRST_BUILD
        .iter()
        .filter(|name| crates.iter().any(|c| c == **name))
        .collect();
    assert!(
        heavy.is_empty(),
        "`cargo run --example` would build {heavy:?}: move them to benches/ or threadlet-proptests/"
    );
}
