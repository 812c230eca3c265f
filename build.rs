//! Index the built-in code sets when the program is built, with their titles packed in
//! compressed blocks (see `src/index.rs`), so that using one at run time parses nothing and reads
//! only the blocks of the titles it shows; and compress the built-in GEMs.
//!
//! ICD-10-CM FY2021–FY2026 are one index over every code of those years, with a pair of year
//! masks per code (see `src/years.rs`), made from the FY2026 code list, the billable spans and
//! the header titles of the FY2026 tabular list.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

#[allow(dead_code)]
#[path = "src/code.rs"]
mod code;
#[allow(dead_code)]
#[path = "src/index.rs"]
mod index;
#[allow(dead_code)]
#[path = "src/years.rs"]
mod years;

use code::System;
use index::Layout;

/// The built-in code sets read from one file each: file under `crosswalk/`, system, layout, name
/// of the files made. `src/crosswalk.rs` names the same files.
const CODE_SETS: [(&str, System, Layout, &str); 4] = [
    (
        "icd9/CMS32_DESC_LONG_DX.txt",
        System::Icd9Dx,
        Layout::Titles,
        "icd9-dx",
    ),
    (
        "icd10cm/icd10cm_order_2018.txt",
        System::Icd10Cm,
        Layout::OrderFile,
        "icd10-cm-2018",
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

/// The files of ICD-10-CM by fiscal year, under `crosswalk/`.
const CODE_LIST: &str = "icd10cm/code-list-April-2026.txt";
const SPANS: &str = "icd10cm/icd10cm-billable-2021-2026.tsv";
const TABULAR: &str = "icd10cm/icd10cm-tabular-April-1-2026.xml";

/// Whether the program is linked with its relative relocations packed: the loader then reads a
/// few kilobytes at start instead of a table of 0.9 MB (which stays in memory). Only for a
/// native build on Linux with glibc 2.36 or later, the first to load them (the program then
/// needs that glibc too, as it needs the one it was built with).
fn packs_relocations() -> bool {
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    if var("TARGET") != var("HOST")
        || var("CARGO_CFG_TARGET_OS") != "linux"
        || var("CARGO_CFG_TARGET_ENV") != "gnu"
    {
        return false;
    }
    let Ok(out) = std::process::Command::new("getconf")
        .arg("GNU_LIBC_VERSION")
        .output()
    else {
        return false;
    };
    // "glibc 2.36"
    let text = String::from_utf8_lossy(&out.stdout);
    let mut version = text.trim().trim_start_matches("glibc ").split('.');
    let mut next = || version.next().and_then(|n| n.parse::<u32>().ok());
    matches!((next(), next()), (Some(major), Some(minor)) if (major, minor) >= (2, 36))
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if packs_relocations() {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
    for file in ["src/code.rs", "src/index.rs", "src/years.rs"] {
        println!("cargo:rerun-if-changed={file}");
    }
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    for (file, system, layout, name) in CODE_SETS {
        let text = read(file);
        let built = index::build(system, layout, &text)
            .unwrap_or_else(|bad| panic!("crosswalk/{file}:{}: {}", bad.line, bad.message));
        write_packed(&out, name, &built, &text);
    }
    build_years(&out);
    // The GEMs are parsed when first used: kept compressed, only their compressed bytes are
    // read (and stay in memory) at run time.
    for file in GEMS {
        let name = Path::new(file).file_name().expect("a file name");
        let name = format!("{}.lz4", name.to_string_lossy());
        write(&out, &name, &lz4_flex::compress_prepend_size(&read(file)));
    }
}

/// The built-in GEMs, under `crosswalk/`; `src/crosswalk.rs` names the same files.
const GEMS: [&str; 4] = [
    "gems/2018_I9gem.txt",
    "gems/2018_I10gem.txt",
    "gems/gem_i9pcs.txt",
    "gems/gem_pcsi9.txt",
];

fn read(file: &str) -> Vec<u8> {
    let path = Path::new("crosswalk").join(file);
    println!("cargo:rerun-if-changed={}", path.display());
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn write(out: &Path, name: &str, bytes: &[u8]) {
    let file = out.join(name);
    std::fs::write(&file, bytes).unwrap_or_else(|e| panic!("cannot write {}: {e}", file.display()));
}

/// Write the index, block table and titles of a code set; returns the index.
fn write_packed(out: &Path, name: &str, built: &[u8], text: &[u8]) -> Vec<u8> {
    let (packed, blocks, titles) = index::pack_titles(built, text);
    write(out, &format!("{name}.idx"), &packed);
    write(out, &format!("{name}.blocks"), &blocks);
    write(out, &format!("{name}.titles"), &titles);
    packed
}

fn build_years(out: &Path) {
    let headers = header_titles(&read(TABULAR));
    let years = years::read(&read(CODE_LIST), &read(SPANS), &|code| {
        headers.get(code).cloned()
    })
    .unwrap_or_else(|(what, bad)| panic!("ICD-10-CM {what}:{}: {}", bad.line, bad.message));
    let (text, masks) = years::titles_text(&years);
    let mut built = index::build(System::Icd10Cm, Layout::Titles, &text)
        .unwrap_or_else(|bad| panic!("ICD-10-CM years:{}: {}", bad.line, bad.message));
    assert_eq!(
        built.len() / index::ENTRY,
        masks.len(),
        "the years text is sorted and lists each code once"
    );
    let mut mask_bytes = Vec::with_capacity(masks.len() * 2);
    let newest = years::bit(years::LAST_YEAR);
    for (entry, m) in built.chunks_exact_mut(index::ENTRY).zip(&masks) {
        entry[7] = u8::from(m.billable & newest != 0);
        mask_bytes.extend_from_slice(&[m.billable, m.listed]);
    }
    let packed = write_packed(out, "icd10-cm-years", &built, &text);
    write(out, "icd10-cm-years.masks", &mask_bytes);
    // The newest year, the default, is indexed on its own: using it reads only its entries,
    // in place (another year's index is made from the masks when it is chosen).
    let newest_index: Vec<u8> = packed
        .chunks_exact(index::ENTRY)
        .zip(&masks)
        .filter(|(_, m)| m.listed & newest != 0)
        .flat_map(|(entry, _)| entry.iter().copied())
        .collect();
    write(out, "icd10-cm-newest.idx", &newest_index);
}

/// The title of every code of the tabular list: the `<desc>` that follows the `<name>` of each
/// `<diag>`, keyed by the canonical (undotted) code.
fn header_titles(xml: &[u8]) -> HashMap<String, String> {
    use quick_xml::events::Event;
    let fail = |e: &dyn std::fmt::Display| -> ! { panic!("crosswalk/{TABULAR}: {e}") };
    let mut reader = quick_xml::Reader::from_reader(xml);
    // The open elements, and the text of the innermost one (text and entity references arrive as
    // separate events).
    let mut path: Vec<Vec<u8>> = Vec::new();
    let mut text = String::new();
    let mut name: Option<String> = None;
    let mut titles = HashMap::new();
    let mut buf = Vec::new();
    loop {
        match reader
            .read_event_into(&mut buf)
            .unwrap_or_else(|e| fail(&e))
        {
            Event::Start(e) => {
                path.push(e.name().as_ref().to_vec());
                text.clear();
            }
            Event::Text(t) => text.push_str(&t.xml_content().unwrap_or_else(|e| fail(&e))),
            Event::GeneralRef(r) => {
                let entity = r.decode().unwrap_or_else(|e| fail(&e));
                match r.resolve_char_ref().unwrap_or_else(|e| fail(&e)) {
                    Some(c) => text.push(c),
                    None => text.push_str(
                        quick_xml::escape::resolve_xml_entity(&entity)
                            .unwrap_or_else(|| fail(&format!("unknown entity &{entity};"))),
                    ),
                }
            }
            Event::End(_) => {
                let in_diag = path.len() >= 2 && path[path.len() - 2] == b"diag";
                match path.pop().as_deref() {
                    Some(b"name") if in_diag => name = Some(text.trim().replace('.', "")),
                    Some(b"desc") if in_diag => {
                        if let Some(code) = name.take() {
                            titles.insert(code, text.trim().to_string());
                        }
                    }
                    _ => {}
                }
                text.clear();
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    titles
}
