//! A seeded, deterministic generator of claim files for benchmarks: the DE-SynPUF inpatient
//! layout (81 columns: 11 diagnosis and 6 procedure code columns) or a CMS RIF-style layout with
//! per-code version columns and ICD-10 claims.
//!
//! Codes are drawn from the built-in crosswalk's own sources in a realistic mix: mostly exact and
//! approximate, some ambiguous and combination codes, V and E codes, a few no-map, retired and
//! malformed codes, diagnosis codes in procedure columns, and empty slots between filled ones.

use std::io::{self, Write};

use crosswalk::{Crosswalk, Status, System};

/// Which layout to write.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// DE-SynPUF inpatient, comma-separated.
    DeSynPuf,
    /// CMS RIF-style, pipe-delimited, per-code version columns, one claim in four ICD-10.
    Rif,
}

struct Pools {
    dx_mapped: Vec<String>,
    dx_ambiguous: Vec<String>,
    dx_combination: Vec<String>,
    dx_v: Vec<String>,
    dx_e: Vec<String>,
    dx_no_map: Vec<String>,
    px_mapped: Vec<String>,
    px_ambiguous: Vec<String>,
    icd10_cm: Vec<String>,
    icd10_pcs: Vec<String>,
}

const RETIRED: [&str; 6] = ["0414", "2841", "585", "V854", "5185", "V451"];
const MALFORMED: [&str; 3] = ["25O00", "2", "41.401"];

fn pools(crosswalk: &Crosswalk) -> Pools {
    let mut p = Pools {
        dx_mapped: vec![],
        dx_ambiguous: vec![],
        dx_combination: vec![],
        dx_v: vec![],
        dx_e: vec![],
        dx_no_map: vec![],
        px_mapped: vec![],
        px_ambiguous: vec![],
        icd10_cm: vec![],
        icd10_pcs: vec![],
    };
    let fwd = crosswalk.gem(System::Icd9Dx).expect("built-in forward GEM");
    for (code, rows) in fwd.sources() {
        let status = crosswalk::mapping::read_rows(rows).status;
        let s = code.to_string();
        match (status, s.as_bytes()[0]) {
            (Status::NoMap, _) => p.dx_no_map.push(s),
            (_, b'V') => p.dx_v.push(s),
            (_, b'E') => p.dx_e.push(s),
            (Status::Ambiguous, _) => p.dx_ambiguous.push(s),
            (Status::Combination, _) => p.dx_combination.push(s),
            _ => p.dx_mapped.push(s),
        }
        for row in rows {
            if let Some(t) = row.target
                && p.icd10_cm.len() < 20_000
            {
                p.icd10_cm.push(t.to_string());
            }
        }
    }
    let px = crosswalk
        .gem(System::Icd9Proc)
        .expect("built-in procedure GEM");
    for (code, rows) in px.sources() {
        match crosswalk::mapping::read_rows(rows).status {
            Status::Ambiguous => p.px_ambiguous.push(code.to_string()),
            Status::NoMap => {}
            _ => p.px_mapped.push(code.to_string()),
        }
        if let Some(t) = rows[0].target {
            p.icd10_pcs.push(t.to_string());
        }
    }
    p
}

fn pick<'a>(rng: &mut fastrand::Rng, pool: &'a [String]) -> &'a str {
    &pool[rng.usize(..pool.len())]
}

fn dx_code<'a>(rng: &mut fastrand::Rng, p: &'a Pools) -> &'a str {
    match rng.u32(..1000) {
        0..=699 => pick(rng, &p.dx_mapped),
        700..=819 => pick(rng, &p.dx_ambiguous),
        820..=849 => pick(rng, &p.dx_combination),
        850..=919 => pick(rng, &p.dx_v),
        920..=969 => pick(rng, &p.dx_e),
        970..=984 => pick(rng, &p.dx_no_map),
        985..=994 => RETIRED[rng.usize(..RETIRED.len())],
        _ => MALFORMED[rng.usize(..MALFORMED.len())],
    }
}

fn px_code<'a>(rng: &mut fastrand::Rng, p: &'a Pools) -> &'a str {
    match rng.u32(..100) {
        0..=59 => pick(rng, &p.px_mapped),
        60..=84 => pick(rng, &p.px_ambiguous),
        // DE-SynPUF puts diagnosis codes in procedure columns.
        _ => pick(rng, &p.dx_mapped),
    }
}

/// Fill `n` of `slots` cells, sometimes leaving a gap before the last ones.
fn fill<'a>(
    rng: &mut fastrand::Rng,
    slots: usize,
    n: usize,
    mut code: impl FnMut(&mut fastrand::Rng) -> &'a str,
) -> Vec<&'a str> {
    let mut cells = vec![""; slots];
    let gap = if n + 1 < slots && rng.u32(..20) == 0 {
        1
    } else {
        0
    };
    for (i, cell) in cells.iter_mut().enumerate().take((n + gap).min(slots)) {
        if gap == 0 || i != n / 2 {
            *cell = code(rng);
        }
    }
    cells
}

/// Write `rows` claims in `layout` with `seed`.
pub fn write_claims(out: &mut impl Write, layout: Layout, rows: u64, seed: u64) -> io::Result<()> {
    let crosswalk = Crosswalk::builtin();
    let p = pools(&crosswalk);
    let mut rng = fastrand::Rng::with_seed(seed);
    match layout {
        Layout::DeSynPuf => write_desynpuf(out, &p, &mut rng, rows),
        Layout::Rif => write_rif(out, &p, &mut rng, rows),
    }
}

fn write_desynpuf(
    out: &mut impl Write,
    p: &Pools,
    rng: &mut fastrand::Rng,
    rows: u64,
) -> io::Result<()> {
    let mut header: Vec<String> = [
        "DESYNPUF_ID",
        "CLM_ID",
        "SEGMENT",
        "CLM_FROM_DT",
        "CLM_THRU_DT",
        "PRVDR_NUM",
        "CLM_PMT_AMT",
        "NCH_PRMRY_PYR_CLM_PD_AMT",
        "AT_PHYSN_NPI",
        "OP_PHYSN_NPI",
        "OT_PHYSN_NPI",
        "CLM_ADMSN_DT",
        "ADMTNG_ICD9_DGNS_CD",
        "CLM_PASS_THRU_PER_DIEM_AMT",
        "NCH_BENE_IP_DDCTBL_AMT",
        "NCH_BENE_PTA_COINSRNC_LBLTY_AM",
        "NCH_BENE_BLOOD_DDCTBL_LBLTY_AM",
        "CLM_UTLZTN_DAY_CNT",
        "NCH_BENE_DSCHRG_DT",
        "CLM_DRG_CD",
    ]
    .map(|h| format!("\"{h}\""))
    .to_vec();
    header.extend((1..=10).map(|i| format!("\"ICD9_DGNS_CD_{i}\"")));
    header.extend((1..=6).map(|i| format!("\"ICD9_PRCDR_CD_{i}\"")));
    header.extend((1..=45).map(|i| format!("\"HCPCS_CD_{i}\"")));
    writeln!(out, "{}", header.join(","))?;
    for n in 0..rows {
        let day = 20080101 + rng.u32(..3) * 10000 + rng.u32(..12) * 100 + rng.u32(..28);
        let dx_n = 1 + rng.usize(..10);
        let px_n = if rng.u32(..10) < 3 {
            1 + rng.usize(..6)
        } else {
            0
        };
        let dx = fill(rng, 10, dx_n, |r| dx_code(r, p));
        let px = fill(rng, 6, px_n, |r| px_code(r, p));
        write!(
            out,
            "{:016X},{},1,{day},{day},{:04}AB,{}.00,0.00,{},,,{day},{},0.00,1068.00,0.00,0.00,{},{day},{:03},",
            rng.u64(..),
            196_000_000_000_000 + n,
            rng.u32(..9999),
            rng.u32(..50) * 1000,
            1_000_000_000 + rng.u64(..8_999_999_999),
            dx_code(rng, p),
            rng.u32(..20),
            rng.u32(..999),
        )?;
        writeln!(out, "{},{}{}", dx.join(","), px.join(","), ",".repeat(45))?;
    }
    Ok(())
}

fn write_rif(
    out: &mut impl Write,
    p: &Pools,
    rng: &mut fastrand::Rng,
    rows: u64,
) -> io::Result<()> {
    let mut header = vec![
        "CLM_ID".to_string(),
        "CLM_FROM_DT".into(),
        "CLM_THRU_DT".into(),
        "PRNCPAL_DGNS_CD".into(),
        "PRNCPAL_DGNS_VRSN_CD".into(),
    ];
    for i in 1..=25 {
        header.push(format!("ICD_DGNS_CD{i}"));
        header.push(format!("ICD_DGNS_VRSN_CD{i}"));
    }
    for i in 1..=25 {
        header.push(format!("ICD_PRCDR_CD{i}"));
        header.push(format!("ICD_PRCDR_VRSN_CD{i}"));
        header.push(format!("PRCDR_DT{i}"));
    }
    writeln!(out, "{}", header.join("|"))?;
    for n in 0..rows {
        let icd10 = rng.u32(..4) == 0;
        let (version, date) = if icd10 {
            ("0", "07-FEB-2016")
        } else {
            ("9", "22-JAN-2014")
        };
        let dx_n = 1 + rng.usize(..12);
        let px_n = if rng.u32(..10) < 3 {
            1 + rng.usize(..6)
        } else {
            0
        };
        let dx = fill(rng, 25, dx_n, |r| {
            if icd10 {
                pick(r, &p.icd10_cm)
            } else {
                dx_code(r, p)
            }
        });
        let px = fill(rng, 25, px_n, |r| {
            if icd10 {
                pick(r, &p.icd10_pcs)
            } else {
                px_code(r, p)
            }
        });
        let principal = dx[0];
        write!(
            out,
            "{:010}|{date}|{date}|{principal}|{version}",
            1_000_000_000 + n
        )?;
        for code in &dx {
            write!(
                out,
                "|{code}|{}",
                if code.is_empty() { "" } else { version }
            )?;
        }
        for code in &px {
            if code.is_empty() {
                write!(out, "|||01-JAN-1000")?;
            } else {
                write!(out, "|{code}|{version}|{date}")?;
            }
        }
        writeln!(out)?;
    }
    Ok(())
}
