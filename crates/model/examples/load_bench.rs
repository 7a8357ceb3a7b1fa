//! Times `load` on a definitions directory, for the performance budget
//! (10,000 reports in 100 files: under 300 ms in release).
//!
//! `benches/gen-definitions.py --out /tmp/defs && cargo run --release -p costform-model --example load_bench -- /tmp/defs`

use std::time::Instant;

use costform_model::{LoadOptions, load, parse_now};

fn main() -> Result<(), String> {
    let dir = std::env::args().nth(1).ok_or("usage: load_bench DIR")?;
    let options = LoadOptions::new(dir, parse_now("2026-11-26")?);
    let started = Instant::now();
    let result = load(&options);
    let elapsed = started.elapsed();
    match result {
        Ok(definitions) => {
            println!(
                "{} reports, {} warnings in {elapsed:?}",
                definitions.reports.len(),
                definitions.warnings.len()
            );
            Ok(())
        }
        Err(diagnostics) => Err(format!("{diagnostics}: {:?}", diagnostics.iter().next())),
    }
}
