//! Any bytes, read as a GEM table (the layout is told from the first line): an error naming a
//! line, or a table in which every source code has a mapping that follows the reading rule's
//! invariants.
#![no_main]

use std::path::PathBuf;

use crosswalk::{Gem, Provenance, Status, System};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&first, data)) = data.split_first() else {
        return;
    };
    let source = System::ALL[usize::from(first) % System::ALL.len()];
    let provenance = Provenance {
        release: "fuzz".to_string(),
        origin: PathBuf::from("fuzz.txt"),
        builtin: false,
    };
    let gem = match Gem::parse(source, data, provenance) {
        Ok(gem) => gem,
        Err(e) => {
            // Every error says where.
            assert!(e.to_string().starts_with("fuzz.txt"), "{e}");
            return;
        }
    };
    assert_eq!(gem.source_system(), source);
    let mut rows = 0;
    for (code, source_rows) in gem.sources() {
        rows += source_rows.len();
        assert!(!source_rows.is_empty());
        let mapping = gem.mapping(&code).expect("a source code has a mapping");
        let targets: Vec<_> = source_rows.iter().filter_map(|r| r.target).collect();
        match mapping.status {
            Status::NoMap => assert!(mapping.alternatives.is_empty()),
            Status::Exact | Status::Approximate => {
                assert_eq!(mapping.alternatives.len(), 1);
                assert_eq!(mapping.alternatives[0].codes.len(), 1);
            }
            Status::Combination => {
                assert_eq!(mapping.alternatives.len(), 1);
                assert!(mapping.alternatives[0].codes.len() >= 2);
            }
            Status::Ambiguous => assert!(mapping.alternatives.len() >= 2),
            other => panic!("a source code of the table is {other:?}"),
        }
        for alternative in &mapping.alternatives {
            assert!(!alternative.codes.is_empty());
            for target in &alternative.codes {
                assert!(targets.contains(&target.code), "{code:?}: {target:?}");
            }
        }
    }
    assert_eq!(rows, gem.row_count());
});
