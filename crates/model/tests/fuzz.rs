//! Definition files come from pull requests: whatever bytes they hold, `load`
//! answers with definitions or diagnostics and never panics.

use std::path::PathBuf;

use costform_model::{LoadOptions, load, parse_now};
use proptest::prelude::*;

fn example_texts() -> Vec<String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.extension()
                .is_some_and(|ext| ext == "yaml" || ext == "yml")
        })
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|path| std::fs::read_to_string(path).unwrap())
        .collect()
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip { at: usize, byte: u8 },
    Truncate { at: usize },
    SwapLines { a: usize, b: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Flip { at, byte }),
        any::<usize>().prop_map(|at| Mutation::Truncate { at }),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines { a, b }),
    ]
}

fn apply(text: &str, mutations: &[Mutation]) -> Vec<u8> {
    let mut bytes = text.as_bytes().to_vec();
    for mutation in mutations {
        match *mutation {
            Mutation::Flip { at, byte } if !bytes.is_empty() => {
                let at = at % bytes.len();
                bytes[at] = byte;
            }
            Mutation::Truncate { at } => bytes.truncate(at % (bytes.len() + 1)),
            Mutation::SwapLines { a, b } => {
                let mut lines: Vec<Vec<u8>> =
                    bytes.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect();
                let (a, b) = (a % lines.len(), b % lines.len());
                lines.swap(a, b);
                bytes = lines.join(&b'\n');
            }
            Mutation::Flip { .. } => {}
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn mutated_examples_never_panic(file in 0usize..6, mutations in proptest::collection::vec(mutation(), 1..6)) {
        let texts = example_texts();
        let text = &texts[file % texts.len()];
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("mutated.yaml"), apply(text, &mutations)).unwrap();
        let options = LoadOptions::new(dir.path(), parse_now("2026-11-26").unwrap());
        match load(&options) {
            Ok(definitions) => prop_assert!(definitions.reports.len() <= 10),
            Err(diagnostics) => prop_assert!(diagnostics.has_errors()),
        }
    }
}
