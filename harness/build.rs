//! Captures the rustc version and the git commit at build time for the environment header.

use std::process::Command;

fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let version = output(Command::new(rustc).arg("-V")).unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=HARNESS_RUSTC_VERSION={version}");

    // `-dirty` when the tree had uncommitted changes: a result measured on them must not carry
    // the last commit's name alone.
    let commit = output(Command::new("git").args(["describe", "--always", "--dirty"]))
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=HARNESS_GIT_COMMIT={commit}");

    let profile = std::env::var("PROFILE").unwrap_or_else(|_| "unknown".to_owned());
    println!("cargo:rustc-env=HARNESS_BUILD_PROFILE={profile}");

    // Rebuild when HEAD moves so the commit in reports stays true.
    if let Some(git_dir) = output(Command::new("git").args(["rev-parse", "--absolute-git-dir"])) {
        println!("cargo:rerun-if-changed={git_dir}/HEAD");
        if let Some(head_ref) = output(Command::new("git").args(["symbolic-ref", "-q", "HEAD"])) {
            println!("cargo:rerun-if-changed={git_dir}/{head_ref}");
        }
        println!("cargo:rerun-if-changed={git_dir}/packed-refs");
        // ... and when the tree changes, so that `-dirty` comes and goes with the edits: every
        // tracked top-level path (cargo watches a directory's files recursively; the untracked
        // target directory is left out) and the index.
        println!("cargo:rerun-if-changed={git_dir}/index");
        if let Some(top) = output(Command::new("git").args(["rev-parse", "--show-toplevel"])) {
            let tracked =
                output(Command::new("git").args(["-C", &top, "ls-tree", "--name-only", "HEAD"]));
            for path in tracked.iter().flat_map(|t| t.lines()) {
                println!("cargo:rerun-if-changed={top}/{path}");
            }
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
}

/// The trimmed stdout of a command that succeeded, or `None`.
fn output(command: &mut Command) -> Option<String> {
    let out = command.output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (!text.is_empty()).then_some(text)
}
