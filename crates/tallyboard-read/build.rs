//! Embeds the browser verifier's committed build outputs that exist under
//! `assets/` (`verify.js`, `tallyboard_web.js`, `tallyboard_web_bg.wasm`),
//! so that the pages' writer can put them into `public/site/`. A file that
//! is not there is simply not embedded (no placeholder).

use std::fmt::Write as _;
use std::path::Path;

const NAMES: &[&str] = &["verify.js", "tallyboard_web.js", "tallyboard_web_bg.wasm"];

fn main() {
    // Read when the script runs, not baked in when it is compiled: a
    // build directory moved to another checkout must not look for the
    // assets in the old one.
    let Some(manifest_dir) = std::env::var_os("CARGO_MANIFEST_DIR") else {
        println!("cargo:warning=CARGO_MANIFEST_DIR is not set");
        std::process::exit(1);
    };
    let dir = Path::new(&manifest_dir).join("assets");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut code = String::from(
        "/// The browser verifier's files found under `assets/` at build time.\npub(crate) const VERIFIER: &[(&str, &[u8])] = &[\n",
    );
    for name in NAMES {
        let p = dir.join(name);
        println!("cargo:rerun-if-changed={}", p.display());
        if p.is_file() {
            let _ = writeln!(
                code,
                "    ({name:?}, include_bytes!({:?})),",
                p.display().to_string()
            );
        }
    }
    code.push_str("];\n");
    let out = Path::new(&std::env::var("OUT_DIR").unwrap_or_else(|_| ".".into()))
        .join("verifier_assets.rs");
    if let Err(e) = std::fs::write(&out, code) {
        println!("cargo:warning=cannot write {}: {e}", out.display());
        std::process::exit(1);
    }
}
