//! The crosswalk: one mapping table per direction plus the code sets that give titles and
//! validity, built in or loaded from files.
//!
//! The built-in data (see `crosswalk/README.md`) is embedded in the program, so it works from any
//! directory. Each built-in table is parsed the first time it is needed: `crosswalk map 273.1`
//! reads the ICD-9-CM → ICD-10-CM table and two code sets, not all seven files.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::code::{Code, System};
use crate::codeset::{CodeSet, Listed, Validity};
use crate::error::{Error, Result};
use crate::gem::{Gem, Provenance};
use crate::mapping::{Mapping, Status};
use crate::tablefile::year_in;
use crate::years;

struct BuiltinFile {
    file: &'static str,
    release: &'static str,
    data: &'static [u8],
}

macro_rules! builtin {
    ($file:literal, $release:literal) => {
        BuiltinFile {
            file: $file,
            release: $release,
            data: include_bytes!(concat!("../crosswalk/", $file)),
        }
    };
}

/// A built-in GEM: `data` is the file compressed by `build.rs` (LZ4, size first).
macro_rules! builtin_gem {
    ($file:literal, $release:literal) => {
        BuiltinFile {
            file: concat!("gems/", $file),
            release: $release,
            data: include_bytes!(concat!(env!("OUT_DIR"), "/", $file, ".lz4")),
        }
    };
}

/// The built-in GEMs, by source system in the order of [`System::ALL`].
const BUILTIN_GEMS: [Option<BuiltinFile>; 4] = [
    Some(builtin_gem!("2018_I9gem.txt", "CMS GEM FY2018")),
    Some(builtin_gem!("2018_I10gem.txt", "CMS GEM FY2018")),
    Some(builtin_gem!("gem_i9pcs.txt", "CMS GEM FY2018")),
    Some(builtin_gem!("gem_pcsi9.txt", "CMS GEM FY2018")),
];

/// The built-in code sets read from one file each, by system in the order of [`System::ALL`]
/// (ICD-10-CM: the FY2018 order file; the other years are [`BUILTIN_YEARS`]).
const BUILTIN_CODE_SETS: [BuiltinFile; 4] = [
    builtin!("icd9/CMS32_DESC_LONG_DX.txt", "ICD-9-CM v32 (FY2015)"),
    builtin!("icd10cm/icd10cm_order_2018.txt", "ICD-10-CM FY2018"),
    builtin!("icd9/CMS32_DESC_LONG_SG.txt", "ICD-9-CM v32 (FY2015)"),
    builtin!("icd10pcs/icd10pcs_codes_2024.txt", "ICD-10-PCS FY2024"),
];

/// The fiscal year of the built-in ICD-10-CM order file.
const ORDER_FILE_YEAR: u16 = 2018;

/// The built-in code sets as `build.rs` indexes and packs them (see [`crate::index`]): index,
/// block table, compressed titles.
macro_rules! prebuilt {
    ($name:literal) => {
        [
            include_bytes!(concat!(env!("OUT_DIR"), "/", $name, ".idx")).as_slice(),
            include_bytes!(concat!(env!("OUT_DIR"), "/", $name, ".blocks")).as_slice(),
            include_bytes!(concat!(env!("OUT_DIR"), "/", $name, ".titles")).as_slice(),
        ]
    };
}
const BUILTIN_INDEXES: [[&[u8]; 3]; 4] = [
    prebuilt!("icd9-dx"),
    prebuilt!("icd10-cm-2018"),
    prebuilt!("icd9-proc"),
    prebuilt!("icd10-pcs"),
];

/// ICD-10-CM FY2021–FY2026 (see [`crate::years`]): one index of every code of those years, its
/// titles, and the year masks of each entry.
const BUILTIN_YEARS: [&[u8]; 3] = prebuilt!("icd10-cm-years");
const BUILTIN_YEAR_MASKS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/icd10-cm-years.masks"));
/// The index of the newest of those years, the default (the same entries [`CodeSet`] makes of
/// the index and masks for that year).
static BUILTIN_NEWEST_INDEX: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/icd10-cm-newest.idx"));

/// The files of the built-in ICD-10-CM FY2021–FY2026, for `--version` and the README.
const BUILTIN_YEAR_FILES: &str = "crosswalk/icd10cm/code-list-April-2026.txt, \
     icd10cm-billable-2021-2026.tsv, icd10cm-tabular-April-1-2026.xml";

/// The fiscal years of ICD-10-CM built into the program, oldest first.
pub fn builtin_code_set_years() -> Vec<u16> {
    std::iter::once(ORDER_FILE_YEAR)
        .chain(years::FIRST_YEAR..=years::LAST_YEAR)
        .collect()
}

/// What is said of a fiscal year `text` with no built-in ICD-10-CM code set.
pub fn unknown_year(text: &str) -> String {
    let list: Vec<String> = builtin_code_set_years()
        .iter()
        .map(u16::to_string)
        .collect();
    format!(
        "no built-in ICD-10-CM code set for {text:?}; built-in fiscal years: {} (another year's \
         CMS order file can be loaded with --code-set FILE)",
        list.join(", ")
    )
}

/// The built-in data, one line per table or code set, for `crosswalk --version`.
pub fn builtin_releases() -> String {
    let mut text = String::new();
    for (system, gem) in System::ALL.into_iter().zip(&BUILTIN_GEMS) {
        if let Some(gem) = gem {
            text.push_str(&format!(
                "{} → {}: {} (crosswalk/{})\n",
                system.label(),
                system.gem_target().label(),
                gem.release,
                gem.file
            ));
        }
    }
    for (system, set) in System::ALL.into_iter().zip(&BUILTIN_CODE_SETS) {
        if system == System::Icd10Cm {
            text.push_str(&format!(
                "ICD-10-CM code sets: FY{} (default), FY{}–FY{} ({BUILTIN_YEAR_FILES}), \
                 FY{ORDER_FILE_YEAR} (crosswalk/{})\n",
                years::LAST_YEAR,
                years::FIRST_YEAR,
                years::LAST_YEAR,
                set.file
            ));
        } else {
            text.push_str(&format!(
                "{} code set: {} (crosswalk/{})\n",
                system.label(),
                set.release,
                set.file
            ));
        }
    }
    text
}

fn slot(system: System) -> usize {
    system.index()
}

/// Mapping tables for up to four directions, and a code set per system.
pub struct Crosswalk {
    gems: [OnceLock<Gem>; 4],
    builtin_gems: [bool; 4],
    code_sets: [OnceLock<CodeSet>; 4],
    // The fiscal year of the built-in ICD-10-CM code set used, unless one was loaded.
    icd10cm_year: u16,
}

impl Default for Crosswalk {
    fn default() -> Self {
        Crosswalk::builtin()
    }
}

/// The result of looking up one input string.
#[derive(Clone, Debug)]
pub struct Lookup {
    /// The system the input was read as.
    pub system: System,
    /// The canonical code, or why the input is not one.
    pub code: std::result::Result<Code, crate::code::CodeError>,
    /// Status and alternatives.
    pub mapping: Mapping,
}

impl Crosswalk {
    /// The crosswalk built into the program. Nothing is parsed until a table is used.
    pub fn builtin() -> Crosswalk {
        Crosswalk {
            gems: Default::default(),
            builtin_gems: BUILTIN_GEMS.map(|b| b.is_some()),
            code_sets: Default::default(),
            icd10cm_year: years::LAST_YEAR,
        }
    }

    /// Judge ICD-10-CM codes (billable, header, not in the code set) and title them as of fiscal
    /// year `year`, one of [`builtin_code_set_years`].
    pub fn set_code_set_year(&mut self, year: u16) -> Result<()> {
        if !builtin_code_set_years().contains(&year) {
            return Err(Error::config(unknown_year(&year.to_string())));
        }
        self.icd10cm_year = year;
        self.code_sets[slot(System::Icd10Cm)] = OnceLock::new();
        Ok(())
    }

    /// Use `set` for its system in place of the built-in code set.
    pub fn set_code_set(&mut self, set: CodeSet) {
        let i = slot(set.system());
        self.code_sets[i] = OnceLock::from(set);
    }

    /// Use `gem` for its direction in place of the built-in table.
    pub fn set_gem(&mut self, gem: Gem) {
        let i = slot(gem.source_system());
        self.gems[i] = OnceLock::from(gem);
        self.builtin_gems[i] = false;
    }

    /// Load every GEM file found in `dir` (by its CMS or NBER file name) in place of the built-in
    /// table of its direction. Returns the directions loaded.
    pub fn load_gems_dir(&mut self, dir: &Path) -> Result<Vec<System>> {
        let found = find_gem_files(dir)?;
        let mut loaded = Vec::new();
        for (system, path) in found {
            let release = release_from_names(&path);
            self.set_gem(Gem::from_path(system, &path, release)?);
            loaded.push(system);
        }
        Ok(loaded)
    }

    /// Parse every table now instead of on first use (for benchmarks, checks and `stats`), one
    /// table per thread.
    pub fn load_all(&self) -> Result<()> {
        std::thread::scope(|scope| {
            let loading: Vec<_> = System::ALL
                .into_iter()
                .filter(|system| self.has_gem(*system))
                .map(|system| scope.spawn(move || self.gem(system).map(|_| ())))
                .collect();
            for system in System::ALL {
                self.code_set(system);
            }
            loading
                .into_iter()
                .try_for_each(|t| t.join().expect("loading a table does not panic"))
        })
    }

    /// True when a table for `source` → its target system is available.
    pub fn has_gem(&self, source: System) -> bool {
        let i = slot(source);
        self.gems[i].get().is_some() || (self.builtin_gems[i] && BUILTIN_GEMS[i].is_some())
    }

    /// The table whose sources are in `source`.
    pub fn gem(&self, source: System) -> Result<&Gem> {
        let i = slot(source);
        if let Some(gem) = self.gems[i].get() {
            return Ok(gem);
        }
        match (&BUILTIN_GEMS[i], self.builtin_gems[i]) {
            (Some(b), true) => Ok(self.gems[i].get_or_init(|| {
                let provenance = Provenance {
                    release: b.release.to_string(),
                    origin: PathBuf::from(format!("crosswalk/{}", b.file)),
                    builtin: true,
                };
                let text = lz4_flex::decompress_size_prepended(b.data)
                    .expect("build.rs compressed the built-in GEMs");
                Gem::parse(source, &text, provenance)
                    .expect("the built-in GEMs are checked by the test suite")
            })),
            _ => Err(Error::no_table(source)),
        }
    }

    /// The code set of `system`: the built-in one (ICD-10-CM of the chosen fiscal year) or the
    /// one loaded in its place.
    pub fn code_set(&self, system: System) -> &CodeSet {
        let i = slot(system);
        self.code_sets[i].get_or_init(|| {
            if system == System::Icd10Cm && self.icd10cm_year == years::LAST_YEAR {
                let [_, blocks, packed] = BUILTIN_YEARS;
                let release = format!("ICD-10-CM FY{}", years::LAST_YEAR);
                return CodeSet::prebuilt(system, release, BUILTIN_NEWEST_INDEX, blocks, packed);
            }
            if system == System::Icd10Cm && self.icd10cm_year != ORDER_FILE_YEAR {
                let [index, blocks, packed] = BUILTIN_YEARS;
                return CodeSet::prebuilt_year(
                    self.icd10cm_year,
                    index,
                    blocks,
                    packed,
                    BUILTIN_YEAR_MASKS,
                );
            }
            let b = &BUILTIN_CODE_SETS[i];
            let [index, blocks, packed] = BUILTIN_INDEXES[i];
            CodeSet::prebuilt(system, b.release.to_string(), index, blocks, packed)
        })
    }

    /// Title of a code in the built-in code set of its system.
    pub fn title(&self, system: System, code: &Code) -> Option<Cow<'_, str>> {
        self.code_set(system).title(code)
    }

    /// Validity of a code in the built-in code set of its system.
    pub fn validity(&self, system: System, code: &Code) -> Validity {
        self.code_set(system).validity(code)
    }

    /// For text that is no code of its ICD-9 system (`system`), append to `out` how it reads as a
    /// code of the other ICD-9 system, if it is one there (`; it reads as the ICD-9-CM diagnosis
    /// code 428.0 (Congestive heart failure, unspecified)`), and return that system. DE-SynPUF
    /// procedure columns hold many diagnosis codes. Only said, never acted on.
    pub fn other_icd9_reading(
        &self,
        system: System,
        text: &[u8],
        out: &mut String,
    ) -> Option<System> {
        let (other, code, validity, listed) = self.other_icd9_find(system, text)?;
        let what = match validity {
            Validity::Billable => "code",
            _ => "category",
        };
        out.push_str("; it reads as the ");
        out.push_str(other.label());
        out.push(' ');
        out.push_str(what);
        out.push(' ');
        code.write_dotted(other, out);
        if let Some(listed) = listed {
            let start = out.len();
            out.push_str(" (");
            match self.code_set(other).write_title(listed, out) {
                true => out.push(')'),
                false => out.truncate(start),
            }
        }
        Some(other)
    }

    /// Whether `text`, no code of its ICD-9 system (`system`), is a code or category of the
    /// other ICD-9 system: that system and the code.
    pub fn other_icd9_code(&self, system: System, text: &[u8]) -> Option<(System, Code)> {
        self.other_icd9_find(system, text)
            .map(|(other, code, _, _)| (other, code))
    }

    /// `text` read as a code of the other ICD-9 system: that system, the code, whether it is a
    /// code or a category there (never [`Validity::NotInCodeSet`]) and where its title is.
    fn other_icd9_find(
        &self,
        system: System,
        text: &[u8],
    ) -> Option<(System, Code, Validity, Option<Listed>)> {
        let other = other_icd9(system)?;
        let code = Code::parse(other, text).ok()?;
        match self.code_set(other).find(&code) {
            (Validity::NotInCodeSet, _) => None,
            (validity, listed) => Some((other, code, validity, listed)),
        }
    }

    /// Look up one input string read as a code of `system`.
    pub fn lookup(&self, system: System, input: &[u8]) -> Result<Lookup> {
        let gem = self.gem(system)?;
        let code = Code::parse(system, input);
        let mapping = match &code {
            Err(_) => Mapping::failed(Status::Malformed),
            Ok(code) => gem
                .mapping(code)
                .unwrap_or_else(|| Mapping::failed(Status::NotInCrosswalk)),
        };
        Ok(Lookup {
            system,
            code,
            mapping,
        })
    }
}

/// The CMS and NBER names of GEM files, lower case, with the source system they map from.
/// CMS dx files carry the year (`2018_I9gem.txt`); the procedure files do not.
fn recognise_gem_file(name: &str) -> Option<System> {
    let name = name.to_ascii_lowercase();
    let dated = |suffix: &str| {
        name.strip_suffix(suffix)
            .is_some_and(|year| year.len() == 4 && year.bytes().all(|b| b.is_ascii_digit()))
    };
    match name.as_str() {
        "gem_i9pcs.txt" | "icd9toicd10pcsgem.csv" => Some(System::Icd9Proc),
        "gem_pcsi9.txt" | "icd10pcstoicd9gem.csv" => Some(System::Icd10Pcs),
        "icd9toicd10cmgem.csv" => Some(System::Icd9Dx),
        "icd10cmtoicd9gem.csv" => Some(System::Icd10Cm),
        _ if dated("_i9gem.txt") => Some(System::Icd9Dx),
        _ if dated("_i10gem.txt") => Some(System::Icd10Cm),
        _ => None,
    }
}

const GEM_NAMES: &str = "YYYY_I9gem.txt, YYYY_I10gem.txt, gem_i9pcs.txt, gem_pcsi9.txt \
     (CMS) or icd9toicd10cmgem.csv, icd10cmtoicd9gem.csv, icd9toicd10pcsgem.csv, \
     icd10pcstoicd9gem.csv (NBER)";

fn find_gem_files(dir: &Path) -> Result<Vec<(System, PathBuf)>> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(Some(dir.to_path_buf()), e))?;
    let mut found: Vec<(System, PathBuf)> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(Some(dir.to_path_buf()), e))?;
        let name = entry.file_name();
        let Some(system) = name.to_str().and_then(recognise_gem_file) else {
            continue;
        };
        if let Some((_, other)) = found.iter().find(|(s, _)| *s == system) {
            return Err(Error::config(format!(
                "{}: two {} → {} tables, {} and {}; keep one, or name it with --gem {}=FILE",
                dir.display(),
                system.label(),
                system.gem_target().label(),
                other.display(),
                entry.path().display(),
                system.name()
            )));
        }
        found.push((system, entry.path()));
    }
    if found.is_empty() {
        return Err(Error::config(format!(
            "{}: no GEM file found; expected one of {GEM_NAMES}",
            dir.display()
        )));
    }
    found.sort();
    Ok(found)
}

/// The release of a GEM file from its name (`2018_I9gem.txt`) or its folder (`fy2018/`), with
/// the publisher from the layout the name implies.
pub fn release_from_names(path: &Path) -> String {
    let file = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let publisher = if file.to_ascii_lowercase().ends_with(".csv") {
        "NBER GEM"
    } else {
        "CMS GEM"
    };
    let folder = path
        .parent()
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str())
        .unwrap_or("");
    match year_in(file).or_else(|| year_in(folder)) {
        Some(year) => format!("{publisher} FY{year}"),
        None => format!("{publisher}, release not stated"),
    }
}

/// The other ICD-9 system of an ICD-9 system.
fn other_icd9(system: System) -> Option<System> {
    match system {
        System::Icd9Dx => Some(System::Icd9Proc),
        System::Icd9Proc => Some(System::Icd9Dx),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_indexes_are_those_of_the_built_in_texts() {
        let mut cw = Crosswalk::builtin();
        cw.set_code_set_year(ORDER_FILE_YEAR).unwrap();
        for (i, system) in System::ALL.into_iter().enumerate() {
            let b = &BUILTIN_CODE_SETS[i];
            let text = Cow::Borrowed(b.data);
            let origin = Path::new(b.file);
            let parsed = if system == System::Icd10Cm {
                CodeSet::from_order_file(b.release.into(), text, origin)
            } else {
                CodeSet::from_titles(system, b.release.into(), text, origin)
            }
            .unwrap();
            let built_in = cw.code_set(system);
            assert!(built_in.len() > 3000, "{system:?}");
            assert!(
                parsed.packed_parts() == built_in.packed_parts(),
                "{system:?}: the code set built with the program differs from the text's"
            );
        }
    }

    /// The newest year's own index holds exactly the entries made of the years' index and masks.
    #[test]
    fn the_newest_years_index_is_the_one_the_masks_make() {
        let [index, blocks, packed] = BUILTIN_YEARS;
        let made =
            CodeSet::prebuilt_year(years::LAST_YEAR, index, blocks, packed, BUILTIN_YEAR_MASKS);
        assert_eq!(made.packed_parts()[0], BUILTIN_NEWEST_INDEX);
        let set = Crosswalk::builtin()
            .code_set(System::Icd10Cm)
            .packed_parts()[0]
            .as_ptr();
        assert_eq!(
            set,
            BUILTIN_NEWEST_INDEX.as_ptr(),
            "the default year reads it in place"
        );
    }

    /// Every built-in fiscal year lists exactly the codes the code list and the spans give it,
    /// billable as the spans say, with the spans' titles.
    #[test]
    fn built_in_years_are_those_of_the_code_list_and_spans() {
        let code_list = include_bytes!("../crosswalk/icd10cm/code-list-April-2026.txt");
        let spans = include_bytes!("../crosswalk/icd10cm/icd10cm-billable-2021-2026.tsv");
        let read = years::read(code_list, spans, &|_| None).unwrap();
        for year in years::FIRST_YEAR..=years::LAST_YEAR {
            let mut cw = Crosswalk::builtin();
            cw.set_code_set_year(year).unwrap();
            let set = cw.code_set(System::Icd10Cm);
            assert_eq!(set.release(), format!("ICD-10-CM FY{year}"));
            let bit = years::bit(year);
            let mut listed = 0;
            for (code, (masks, title)) in &read {
                let code = Code::parse_str(System::Icd10Cm, code).unwrap();
                let want = if masks.billable & bit != 0 {
                    Validity::Billable
                } else if masks.listed & bit != 0 {
                    Validity::Header
                } else {
                    continue;
                };
                listed += 1;
                assert_eq!(set.validity(&code), want, "{code} in FY{year}");
                if want == Validity::Billable {
                    assert_eq!(set.title(&code).unwrap(), *title, "{code}");
                }
            }
            assert_eq!(set.len(), listed, "FY{year}");
        }
    }

    #[test]
    fn gem_file_names() {
        let cases = [
            ("2018_I9gem.txt", Some(System::Icd9Dx)),
            ("2017_I10gem.txt", Some(System::Icd10Cm)),
            ("2018_i9GEM.TXT", Some(System::Icd9Dx)),
            ("gem_i9pcs.txt", Some(System::Icd9Proc)),
            ("gem_pcsi9.txt", Some(System::Icd10Pcs)),
            ("icd9toicd10cmgem.csv", Some(System::Icd9Dx)),
            ("icd10pcstoicd9gem.csv", Some(System::Icd10Pcs)),
            ("18_I9gem.txt", None),
            ("README.txt", None),
        ];
        for (name, want) in cases {
            assert_eq!(recognise_gem_file(name), want, "{name}");
        }
    }

    #[test]
    fn releases_from_file_and_folder_names() {
        let cases = [
            ("x/fy2018/2018_I9gem.txt", "CMS GEM FY2018"),
            ("x/fy2018/gem_pcsi9.txt", "CMS GEM FY2018"),
            ("x/nber-fy2016/icd9toicd10cmgem.csv", "NBER GEM FY2016"),
            ("x/gems/gem_i9pcs.txt", "CMS GEM, release not stated"),
        ];
        for (path, want) in cases {
            assert_eq!(release_from_names(Path::new(path)), want, "{path}");
        }
    }

    #[test]
    fn text_of_one_icd9_system_read_as_the_other() {
        let cw = Crosswalk::builtin();
        let reading = |system, text: &str| {
            let mut out = String::from("before");
            let other = cw.other_icd9_reading(system, text.as_bytes(), &mut out);
            (other, out)
        };
        assert_eq!(
            reading(System::Icd9Dx, "9904"),
            (
                Some(System::Icd9Proc),
                "before; it reads as the ICD-9-CM procedure code 99.04 (Transfusion of packed \
                 cells)"
                    .to_string()
            )
        );
        // A category of the other system has no title of its own there.
        assert_eq!(
            reading(System::Icd9Proc, "V10"),
            (
                Some(System::Icd9Dx),
                "before; it reads as the ICD-9-CM diagnosis category V10".to_string()
            )
        );
        // Neither a code nor a category there: nothing said.
        assert_eq!(
            reading(System::Icd9Proc, "V99"),
            (None, "before".to_string())
        );
        assert_eq!(cw.other_icd9_code(System::Icd9Proc, b"V99"), None);
        assert_eq!(
            cw.other_icd9_code(System::Icd9Proc, b"V10"),
            Some((
                System::Icd9Dx,
                Code::parse_str(System::Icd9Dx, "V10").unwrap()
            ))
        );
        assert_eq!(cw.other_icd9_code(System::Icd10Cm, b"V10"), None);
    }

    #[test]
    fn builtin_tables_load_and_hold_the_worked_examples() {
        let cw = Crosswalk::builtin();
        cw.load_all().unwrap();
        let rows_sources = |system| {
            let gem = cw.gem(system).unwrap();
            (gem.row_count(), gem.source_count())
        };
        assert_eq!(rows_sources(System::Icd9Dx), (24_860, 14_567));
        assert_eq!(rows_sources(System::Icd10Cm), (81_593, 71_704));
        assert_eq!(rows_sources(System::Icd9Proc), (73_593, 3_882));
        assert_eq!(rows_sources(System::Icd10Pcs), (101_025, 78_705));
        assert_eq!(cw.code_set(System::Icd9Dx).len(), 14_567);
        assert_eq!(cw.code_set(System::Icd9Proc).len(), 3_882);
        // FY2026, the default: the code list's distinct codes and leaves.
        assert_eq!(cw.code_set(System::Icd10Cm).len(), 98_186);
        assert_eq!(cw.code_set(System::Icd10Cm).billable_count(), 74_719);
        assert_eq!(cw.code_set(System::Icd10Pcs).len(), 78_603);
        let billable_in = |year| {
            let mut cw = Crosswalk::builtin();
            cw.set_code_set_year(year).unwrap();
            cw.code_set(System::Icd10Cm).billable_count()
        };
        assert_eq!(billable_in(2025), 74_260);
        assert_eq!(billable_in(2018), 71_704);
        let l = cw.lookup(System::Icd9Dx, b"273.1").unwrap();
        assert_eq!(l.mapping.status, Status::Approximate);
        let d8983 = Code::parse_str(System::Icd10Cm, "D89.83").unwrap();
        assert_eq!(cw.validity(System::Icd10Cm, &d8983), Validity::Header);
        assert!(Crosswalk::builtin().set_code_set_year(2019).is_err());
    }
}
