//! Index the built-in code sets when the program is built (see `src/index.rs`), so that using
//! one at run time parses nothing.

use std::path::{Path, PathBuf};

#[allow(dead_code)]
#[path = "src/code.rs"]
mod code;
#[allow(dead_code)]
#[path = "src/index.rs"]
mod index;

use code::System;
use index::Layout;

/// The built-in code sets: file under `crosswalk/`, system, layout, index name. `src/crosswalk.rs`
/// names the same files.
const CODE_SETS: [(&str, System, Layout, &str); 4] = [
    (
        "icd9/CMS32_DESC_LONG_DX.txt",
        System::Icd9Dx,
        Layout::Titles,
        "icd9-dx.idx",
    ),
    (
        "icd10cm/icd10cm_order_2025.txt",
        System::Icd10Cm,
        Layout::OrderFile,
        "icd10-cm.idx",
    ),
    (
        "icd9/CMS32_DESC_LONG_SG.txt",
        System::Icd9Proc,
        Layout::Titles,
        "icd9-proc.idx",
    ),
    (
        "icd10pcs/icd10pcs_codes_2024.txt",
        System::Icd10Pcs,
        Layout::Titles,
        "icd10-pcs.idx",
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
        std::fs::write(out.join(name), built)
            .unwrap_or_else(|e| panic!("cannot write {name}: {e}"));
    }
}
