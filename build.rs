//! Compiles the question bank's files into the binary (they stay editable data files in `bank/`),
//! and links libsonic for the voice's espeak-ng.

use std::{env, fs, path::Path};

fn main() {
    println!("cargo:rerun-if-changed=bank");
    // espeak-ng (bundled by espeak-rs-sys, used by the voice) calls into libsonic but does not link it.
    println!("cargo:rustc-link-lib=sonic");
    let mut files = vec!["roles.toml".to_string(), "skills.toml".to_string()];
    let mut questions: Vec<String> = fs::read_dir("bank/questions")
        .expect("bank/questions exists")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml"))
        .map(|n| format!("questions/{n}"))
        .collect();
    questions.sort();
    files.extend(questions);
    let root = env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let entries: Vec<String> = files
        .iter()
        .map(|f| {
            let path = Path::new(&root).join("bank").join(f);
            println!("cargo:rerun-if-changed={}", path.display());
            format!("({f:?}, include_str!({:?}))", path.display().to_string())
        })
        .collect();
    let out = Path::new(&env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("bank_files.rs");
    fs::write(out, format!("[{}]", entries.join(",\n"))).expect("OUT_DIR is writable");
}
