//! Records the git commit the binary was built from, for `manifest.json`.
use std::path::Path;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    Command::new("git")
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
}

fn main() {
    // Rebuild when HEAD moves. In a worktree `.git` is a file and HEAD lives in the worktree's
    // own git directory, the refs in the common one: watching `.git/HEAD` there (a path that
    // never exists) made cargo rerun this script, and rebuild the crate, on every build.
    let dirs = git(&["rev-parse", "--git-dir"]).zip(git(&["rev-parse", "--git-common-dir"]));
    let mut watched = false;
    if let Some((dir, common)) = dirs {
        let paths = [
            Path::new(&dir).join("HEAD"),
            Path::new(&common).join("refs"),
            Path::new(&common).join("packed-refs"),
        ];
        for p in paths.iter().filter(|p| p.exists()) {
            println!("cargo:rerun-if-changed={}", p.display());
            watched = true;
        }
    }
    if !watched {
        println!("cargo:rerun-if-changed=build.rs");
    }
    let commit = git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_default();
    println!("cargo:rustc-env=ALLSEQ_GIT_COMMIT={commit}");
}
