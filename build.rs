//! Index the built-in code sets when the program is built, with their titles packed in
//! compressed blocks (see `src/index.rs`), so that using one at run time parses nothing and reads
//! only the blocks of the titles it shows.

use std::path::{Path, PathBuf};

#[allow(dead_code)]
#[path = "src/code.rs"]
mod code;
#[allow(dead_code)]
#[path = "src/index.rs"]
mod index;

use code::System;
use index::Layout;

/// The built-in code sets: file under `crosswalk/`, system, layout, name of the files made. `src/crosswalk.rs`
/// names the same files.
const CODE_SETS: [(&str, System, Layout, &str); 4] = [
    (
        "icd9/CMS32_DESC_LONG_DX.txt",
        System::Icd9Dx,
        Layout::Titles,
        "icd9-dx",
    ),
    (
        "icd10cm/icd10cm_order_2025.txt",
        System::Icd10Cm,
        Layout::OrderFile,
        "icd10-cm",
    ),
    (
        "icd9/CMS32_DESC_LONG_SG.txt",
        System::Icd9Proc,
        Layout::Titles,
        "icd9-proc",
    ),
    (
        "icd10pcs/icd10pcs_codes_2024.txt",
        System::Icd10Pcs,
        Layout::Titles,
        "icd10-pcs",
    ),
];

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/code.rs");
    println!("cargo:rerun-if-changed=src/index.rs");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    for (file, system, layout, name) in CODE_SETS {
        let path = Path::new("crosswalk").join(file);
        println!("cargo:rerun-if-changed={}", path.display());
        let text =
            std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let built = index::build(system, layout, &text)
            .unwrap_or_else(|bad| panic!("{}:{}: {}", path.display(), bad.line, bad.message));
        let (packed, blocks, titles) = index::pack_titles(&built, &text);
        for (suffix, bytes) in [("idx", packed), ("blocks", blocks), ("titles", titles)] {
            let file = out.join(format!("{name}.{suffix}"));
            std::fs::write(&file, bytes)
                .unwrap_or_else(|e| panic!("cannot write {}: {e}", file.display()));
        }
    }
}
