//! Claim dates in the spellings real files use, for the ICD-9 → ICD-10 cutover.
//!
//! `20080413`, `2008-04-13`, `13-APR-2008` (CCW RIF), `04/13/2008`. A blank or the RIF sentinel
//! `01-JAN-1000` means "no date". Dates are compared as `YYYYMMDD` integers.

/// 2015-10-01: ICD-10 is used for services (inpatient: discharges) on or after this date.
pub const ICD10_CUTOVER: u32 = 20151001;

const MONTHS: [&[u8; 3]; 12] = [
    b"JAN", b"FEB", b"MAR", b"APR", b"MAY", b"JUN", b"JUL", b"AUG", b"SEP", b"OCT", b"NOV", b"DEC",
];

fn number(digits: &[u8]) -> Option<u32> {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(digits.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
}

/// Parse a date into `YYYYMMDD`; `Ok(None)` for a blank or the `01-JAN-1000` sentinel.
pub fn parse(field: &[u8]) -> Result<Option<u32>, String> {
    let field = field.trim_ascii();
    if field.is_empty() {
        return Ok(None);
    }
    let parsed = match field.len() {
        8 => number(field).map(|n| (n / 10000, n / 100 % 100, n % 100)),
        10 if field[4] == b'-' && field[7] == b'-' => number(&field[..4])
            .zip(number(&field[5..7]))
            .zip(number(&field[8..]))
            .map(|((y, m), d)| (y, m, d)),
        10 if field[2] == b'/' && field[5] == b'/' => number(&field[6..])
            .zip(number(&field[..2]))
            .zip(number(&field[3..5]))
            .map(|((y, m), d)| (y, m, d)),
        11 if field[2] == b'-' && field[6] == b'-' => {
            let month = MONTHS
                .iter()
                .position(|m| m.eq_ignore_ascii_case(&field[3..6]))
                .map(|i| i as u32 + 1);
            number(&field[7..])
                .zip(month)
                .zip(number(&field[..2]))
                .map(|((y, m), d)| (y, m, d))
        }
        _ => None,
    };
    match parsed {
        Some((1000, 1, 1)) => Ok(None),
        Some((y, m, d)) if (1..=12).contains(&m) && (1..=31).contains(&d) && y >= 1000 => {
            Ok(Some(y * 10000 + m * 100 + d))
        }
        _ => Err(format!(
            "date {:?} is not YYYYMMDD, YYYY-MM-DD, DD-MON-YYYY or MM/DD/YYYY",
            String::from_utf8_lossy(field)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings() {
        let table: [(&str, Option<u32>); 7] = [
            ("20080413", Some(20080413)),
            ("2008-04-13", Some(20080413)),
            ("13-APR-2008", Some(20080413)),
            ("07-feb-2016", Some(20160207)),
            ("04/13/2008", Some(20080413)),
            ("01-JAN-1000", None),
            ("  ", None),
        ];
        for (input, want) in table {
            assert_eq!(parse(input.as_bytes()), Ok(want), "{input}");
        }
        for bad in [
            "2008-13-01",
            "13/04/2008",
            "yesterday",
            "2008041",
            "32-JAN-2008",
        ] {
            assert!(parse(bad.as_bytes()).is_err(), "{bad}");
        }
        assert!(parse(b"20151001").unwrap().unwrap() >= ICD10_CUTOVER);
        assert!(parse(b"30-SEP-2015").unwrap().unwrap() < ICD10_CUTOVER);
    }
}
