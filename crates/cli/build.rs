//! Embeds the definition files under `examples/` so `costform demo` runs the
//! same examples the repository documents, from any directory.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    println!("cargo:rerun-if-changed={}", examples.display());
    // A build without the examples would give a demo with nothing to run:
    // fail the build instead, naming the folder.
    let mut files: Vec<_> = std::fs::read_dir(&examples)
        .unwrap_or_else(|error| panic!("`{}` must be readable: {error}", examples.display()))
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.extension()
                .is_some_and(|ext| ext == "yaml" || ext == "yml")
        })
        .collect();
    assert!(
        !files.is_empty(),
        "`{}` holds no definition file for `costform demo`",
        examples.display()
    );
    files.sort();
    let mut code = String::from(
        "/// The bundled example definition files: (file name, contents).\npub const EXAMPLES: &[(&str, &str)] = &[\n",
    );
    for path in &files {
        let name = path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        let _ = writeln!(
            code,
            "    ({name:?}, include_str!({:?})),",
            path.display().to_string()
        );
    }
    code.push_str("];\n");
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("examples.rs");
    std::fs::write(out, code).expect("OUT_DIR is writable");
}
