//! Writing converted records straight into a byte buffer, exactly as the csv crate's writer
//! (`QuoteStyle::Necessary`, doubled quotes) would write them, without first copying each
//! record's fields into a `ByteRecord` and then through the writer's own buffer: each output
//! record is encoded once, as it is converted, and writing it in order only writes bytes.

/// Encodes records for one delimiter and line end.
#[derive(Clone)]
pub struct Encoder {
    delimiter: u8,
    crlf: bool,
}

impl Encoder {
    /// An encoder writing `delimiter`-separated fields, lines ending in CRLF when `crlf`, else LF.
    pub fn new(delimiter: u8, crlf: bool) -> Encoder {
        Encoder { delimiter, crlf }
    }

    /// Append one record of `fields` and its line end to `out`.
    pub fn record<'a>(&self, fields: impl IntoIterator<Item = &'a [u8]>, out: &mut Vec<u8>) {
        let start = out.len();
        for (n, field) in fields.into_iter().enumerate() {
            if n > 0 {
                out.push(self.delimiter);
            }
            self.field(field, out);
        }
        self.end(start, out);
    }

    /// The delimiter.
    pub fn delimiter(&self) -> u8 {
        self.delimiter
    }

    /// Append one field to `out`, quoted when it needs to be.
    pub fn field(&self, field: &[u8], out: &mut Vec<u8>) {
        if self.needs_quotes(field) {
            out.push(b'"');
            let mut rest = field;
            while let Some(at) = memchr::memchr(b'"', rest) {
                out.extend_from_slice(&rest[..=at]);
                out.push(b'"');
                rest = &rest[at + 1..];
            }
            out.extend_from_slice(rest);
            out.push(b'"');
        } else {
            out.extend_from_slice(field);
        }
    }

    /// True when `field` holds a byte that makes it need quotes. Eight bytes are tested at
    /// once (a zero byte of the word XORed with each special byte); the bytes past the last
    /// whole word are padded with the field's last byte, which is tested anyway.
    fn needs_quotes(&self, field: &[u8]) -> bool {
        const ONES: u64 = 0x0101_0101_0101_0101;
        let [a, b, c, d] = [self.delimiter, b'"', b'\r', b'\n'].map(|s| ONES * u64::from(s));
        let zero = |y: u64| y.wrapping_sub(ONES) & !y & (ONES << 7) != 0;
        let special = |w: u64| zero(w ^ a) | zero(w ^ b) | zero(w ^ c) | zero(w ^ d);
        let mut words = field.chunks_exact(8);
        for word in &mut words {
            if special(u64::from_le_bytes(word.try_into().expect("eight bytes"))) {
                return true;
            }
        }
        match words.remainder() {
            [] => false,
            rest => {
                let mut word = [rest[rest.len() - 1]; 8];
                word[..rest.len()].copy_from_slice(rest);
                special(u64::from_le_bytes(word))
            }
        }
    }

    /// End the record that started at `out[start]`: its line end, after `""` when it has
    /// nothing in it (no field, or one empty field), so that it reads back as a record.
    pub fn end(&self, start: usize, out: &mut Vec<u8>) {
        if out.len() == start {
            out.extend_from_slice(b"\"\"");
        }
        if self.crlf {
            out.extend_from_slice(b"\r\n");
        } else {
            out.push(b'\n');
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// What the csv crate's writer makes of `records`.
    fn by_csv(records: &[Vec<Vec<u8>>], delimiter: u8, crlf: bool) -> Vec<u8> {
        let mut w = csv::WriterBuilder::new()
            .delimiter(delimiter)
            .flexible(true)
            .terminator(if crlf {
                csv::Terminator::CRLF
            } else {
                csv::Terminator::Any(b'\n')
            })
            .from_writer(Vec::new());
        for r in records {
            w.write_byte_record(&csv::ByteRecord::from(r.clone()))
                .unwrap();
        }
        w.into_inner().unwrap()
    }

    fn ours(records: &[Vec<Vec<u8>>], delimiter: u8, crlf: bool) -> Vec<u8> {
        let encoder = Encoder::new(delimiter, crlf);
        let mut out = Vec::new();
        for r in records {
            encoder.record(r.iter().map(Vec::as_slice), &mut out);
        }
        out
    }

    #[test]
    fn edge_cases_match_the_csv_writer() {
        let cases: Vec<Vec<Vec<u8>>> = vec![
            vec![],
            vec![b"".to_vec()],
            vec![b"".to_vec(), b"".to_vec()],
            vec![
                b"a\"b".to_vec(),
                b"x,y".to_vec(),
                b"\r".to_vec(),
                b"line\nbreak".to_vec(),
            ],
            vec![
                b"\"".to_vec(),
                b"|".to_vec(),
                b"\t".to_vec(),
                b"\xe9".to_vec(),
            ],
        ];
        for delimiter in [b',', b'|', b'\t'] {
            for crlf in [false, true] {
                assert_eq!(
                    ours(&cases, delimiter, crlf),
                    by_csv(&cases, delimiter, crlf),
                    "delimiter {delimiter} crlf {crlf}"
                );
            }
        }
    }

    proptest! {
        #[test]
        fn any_record_is_written_as_the_csv_writer_writes_it(
            records in proptest::collection::vec(
                proptest::collection::vec(
                    proptest::collection::vec(
                        prop_oneof![Just(b','), Just(b'"'), Just(b'\r'), Just(b'\n'), Just(b'|'), Just(b'\t'), any::<u8>()],
                        0..20,
                    ),
                    0..5,
                ),
                0..4,
            ),
            delimiter in prop_oneof![Just(b','), Just(b'|'), Just(b'\t')],
            crlf in any::<bool>(),
        ) {
            prop_assert_eq!(ours(&records, delimiter, crlf), by_csv(&records, delimiter, crlf));
        }

        /// The word-at-a-time test finds a special byte wherever it is: in a whole word, in the
        /// bytes past the last one, next to bytes one above or below it.
        #[test]
        fn a_field_needs_quotes_exactly_when_it_holds_a_special_byte(
            field in proptest::collection::vec(
                prop_oneof![Just(b','), Just(b'"'), Just(b'\r'), Just(b'\n'), Just(b'-'), Just(b'#'), Just(b'\x0b'), any::<u8>()],
                0..40,
            ),
            delimiter in prop_oneof![Just(b','), Just(b'|'), Just(b'\t'), any::<u8>()],
        ) {
            let encoder = Encoder::new(delimiter, false);
            let want = field.iter().any(|&b| [delimiter, b'"', b'\r', b'\n'].contains(&b));
            prop_assert_eq!(encoder.needs_quotes(&field), want);
        }
    }
}
