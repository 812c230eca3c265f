//! Reading a claim file in chunks cut at record boundaries, so that records can be split (and
//! converted) on any thread: a [`Cutter`] reads the input and cuts it, quote-aware, after the
//! last whole record of each stretch; [`split`] turns one chunk into records, copying a record
//! that holds no quote straight from its line and leaving the rest to the csv crate's parser.
//!
//! Both follow the csv crate's reading exactly (the reader `convert` used before, with its
//! defaults: `"` quotes, doubled to escape, CR, LF and CRLF end records, blank lines skipped, a
//! quote inside an unquoted field taken as it is), and both count lines as [`crate::csvio`]
//! does: LF, CRLF and a lone CR each end one line. A test checks them against the csv crate on
//! generated input cut at every size.

use std::io::Read;
use std::sync::{Arc, Mutex};

use crate::csvio::{MAX_RECORD_BYTES, RecordTooLong, count_breaks};
use crate::error::{Error, Result};
use crate::rows::Rows;

/// Bytes a chunk takes at least (unless the input ends first): enough that handing a chunk to a
/// thread costs nothing per record, little enough that the chunks in flight stay a few MiB.
pub const CHUNK_BYTES: usize = 128 << 10;

/// A stretch of the input holding whole records.
#[derive(Debug, Default)]
pub struct Chunk {
    /// The bytes, from just after a record's end (or the start of the input) to just after
    /// another's (or the end of the input).
    pub bytes: Vec<u8>,
    /// The input offset of the first byte.
    pub offset: u64,
    /// The line (from 1) the first byte is on.
    pub first_line: u64,
    /// Records before the chunk (the header, when there is one, included).
    pub first_record: u64,
    /// Records in the chunk.
    pub records: u64,
}

impl Chunk {
    /// The input offset just after the last byte.
    pub fn end(&self) -> u64 {
        self.offset + self.bytes.len() as u64
    }
}

/// Where the scan of the input stands, in the csv crate's terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Quote {
    /// Outside quotes.
    Out,
    /// Inside a quoted field.
    In,
    /// Just after a quote inside a quoted field: another quote makes it an escaped quote.
    Closing,
}

/// The first line and number (from 1, header included) of the record an unclosed quote turned
/// into the rest of the input, once the input has ended there.
pub type Swallowed = Arc<Mutex<Option<(u64, u64)>>>;

/// Cuts an input into [`Chunk`]s at record boundaries.
pub struct Cutter<R> {
    input: R,
    name: String,
    delimiter: u8,
    /// Bytes read and not yet handed out, from just after a record's end.
    buf: Vec<u8>,
    /// How much of `buf` has been scanned.
    scanned: usize,
    /// The end of the last whole record in `buf`, and records up to it (from `buf`'s start).
    cut: usize,
    cut_records: u64,
    /// Records seen in `buf` so far.
    records: u64,
    quote: Quote,
    /// The record being scanned has a byte (a line with none is blank and skipped).
    content: bool,
    /// Where in `buf` the record being scanned starts.
    record_start: usize,
    /// The input offset and line of `buf`'s first byte; records handed out so far.
    offset: u64,
    line: u64,
    handed: u64,
    eof: bool,
    chunk_bytes: usize,
    swallowed: Swallowed,
}

impl<R: Read> Cutter<R> {
    /// Chunks of `input` (the file called `name` in errors), whose fields are split at
    /// `delimiter`.
    pub fn new(input: R, name: &str, delimiter: u8) -> Cutter<R> {
        Cutter {
            input,
            name: name.to_string(),
            delimiter,
            buf: Vec::new(),
            scanned: 0,
            cut: 0,
            cut_records: 0,
            records: 0,
            quote: Quote::Out,
            content: false,
            record_start: 0,
            offset: 0,
            line: 1,
            handed: 0,
            eof: false,
            chunk_bytes: CHUNK_BYTES,
            swallowed: Swallowed::default(),
        }
    }

    /// Chunks of at least `bytes` instead of [`CHUNK_BYTES`] (tests cut small ones).
    pub fn with_chunk_bytes(mut self, bytes: usize) -> Cutter<R> {
        self.chunk_bytes = bytes.max(1);
        self
    }

    /// Where the record an unclosed quote ran to the end of the input is noted, once the input
    /// has ended.
    pub fn swallowed(&self) -> Swallowed {
        Arc::clone(&self.swallowed)
    }

    /// Fill `chunk` with the next stretch of whole records; false when the input has ended.
    pub fn next_chunk(&mut self, chunk: &mut Chunk) -> Result<bool> {
        loop {
            let limit = if self.eof {
                self.buf.len()
            } else {
                // The last byte read waits: a CR there may be followed by an LF of its own.
                self.buf.len().saturating_sub(1)
            };
            self.scan(limit);
            if self.buf.len() - self.cut > MAX_RECORD_BYTES as usize {
                let line = self.line
                    + count_breaks(&self.buf[..self.cut])
                    + leading_breaks(&self.buf[self.cut..]);
                return Err(Error::parse(
                    self.name.as_str(),
                    line,
                    RecordTooLong { line }.to_string(),
                ));
            }
            // A chunk is handed out once it holds a chunk's worth of bytes and a whole record;
            // only the record after its last cut is carried over.
            let enough = self.cut > 0 && self.buf.len() >= self.chunk_bytes;
            if self.eof {
                if self.content {
                    // The last record has no line end.
                    self.records += 1;
                    self.content = false;
                    if self.quote == Quote::In && has_break(&self.buf[self.record_start..]) {
                        let line = self.line + count_breaks(&self.buf[..self.record_start]);
                        let line = line + leading_breaks(&self.buf[self.record_start..]);
                        let number = self.handed + self.records;
                        *self.swallowed.lock().unwrap_or_else(|e| e.into_inner()) =
                            Some((line, number));
                    }
                    self.cut = self.buf.len();
                    self.cut_records = self.records;
                }
                if self.buf.is_empty() {
                    return Ok(false);
                }
                if self.cut < self.buf.len() {
                    // Only blank lines are left: they go with the last chunk.
                    self.cut = self.buf.len();
                }
                self.hand_out(chunk);
                return Ok(true);
            }
            if enough {
                self.hand_out(chunk);
                return Ok(true);
            }
            self.fill()?;
        }
    }

    /// Read more input onto `buf` (a chunk's worth, unless it ends).
    fn fill(&mut self) -> Result<()> {
        let want = self.buf.len() + self.chunk_bytes;
        // Exactly: every chunk's buffer comes back here in turn, and doubling would make each
        // of those in flight twice the size.
        self.buf.reserve_exact(want - self.buf.len());
        while self.buf.len() < want {
            let at = self.buf.len();
            self.buf.resize(want, 0);
            let n = loop {
                match self.input.read(&mut self.buf[at..]) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        self.buf.truncate(at);
                        return Err(Error::io(Some(self.name.as_str().into()), e));
                    }
                }
            };
            self.buf.truncate(at + n);
            if n == 0 {
                self.eof = true;
                break;
            }
        }
        Ok(())
    }

    /// Move `buf` up to the last cut into `chunk`, keeping the rest.
    fn hand_out(&mut self, chunk: &mut Chunk) {
        let cut = self.cut;
        chunk.bytes.clear();
        chunk.bytes.extend_from_slice(&self.buf[cut..]);
        std::mem::swap(&mut chunk.bytes, &mut self.buf);
        chunk.bytes.truncate(cut);
        chunk.offset = self.offset;
        chunk.first_line = self.line;
        chunk.first_record = self.handed;
        chunk.records = self.cut_records;
        self.offset += cut as u64;
        // A chunk never ends between a CR and its LF, so its breaks can be counted alone.
        self.line += count_breaks(&chunk.bytes);
        self.handed += self.cut_records;
        self.records -= self.cut_records;
        self.scanned -= cut;
        self.record_start = self.record_start.saturating_sub(cut);
        self.cut = 0;
        self.cut_records = 0;
    }

    /// Scan `buf` up to `limit`, noting the end of every record.
    fn scan(&mut self, limit: usize) {
        let full = &self.buf[..];
        let buf = &full[..limit];
        let mut i = self.scanned;
        while i < buf.len() {
            match self.quote {
                Quote::Out => {
                    let Some(k) = memchr::memchr3(b'"', b'\n', b'\r', &buf[i..]) else {
                        if !self.content {
                            self.content = true;
                            self.record_start = i;
                        }
                        i = buf.len();
                        continue;
                    };
                    let at = i + k;
                    if k > 0 && !self.content {
                        self.content = true;
                        self.record_start = i;
                    }
                    if buf[at] == b'"' {
                        // A quote opens a quoted field only at the field's start.
                        if !self.content {
                            self.content = true;
                            self.record_start = at;
                            self.quote = Quote::In;
                        } else if buf[at - 1] == self.delimiter {
                            self.quote = Quote::In;
                        }
                        i = at + 1;
                    } else {
                        if self.content {
                            self.records += 1;
                            self.content = false;
                            let crlf = buf[at] == b'\r' && full.get(at + 1) == Some(&b'\n');
                            self.cut = at + 1 + usize::from(crlf);
                            self.cut_records = self.records;
                        }
                        i = at + 1;
                    }
                }
                Quote::In => match memchr::memchr(b'"', &buf[i..]) {
                    Some(k) => {
                        self.quote = Quote::Closing;
                        i += k + 1;
                    }
                    None => i = buf.len(),
                },
                Quote::Closing => {
                    // A doubled quote is an escaped one; anything else ends the quoted part.
                    if buf[i] == b'"' {
                        self.quote = Quote::In;
                        i += 1;
                    } else {
                        self.quote = Quote::Out;
                    }
                }
            }
        }
        // The LF of a CRLF that ends a record may lie past the limit: it is taken with the CR.
        self.scanned = buf.len().max(self.scanned).max(self.cut);
    }
}

fn has_break(bytes: &[u8]) -> bool {
    memchr::memchr2(b'\n', b'\r', bytes).is_some()
}

/// Lines that `bytes` starts with which are blank (skipped, like the csv crate skips them).
fn leading_breaks(bytes: &[u8]) -> u64 {
    let blank = bytes
        .iter()
        .position(|&b| b != b'\n' && b != b'\r')
        .unwrap_or(bytes.len());
    count_breaks(&bytes[..blank])
}

/// Split `chunk` into the records of `rows` (cleared first), each with its true line and input
/// offset. A record that holds no quote is split straight from its line, which `rows` keeps so
/// that untouched fields can be copied as they are (see [`crate::rows::Fields::raw`]); one that
/// holds a quote is read by the csv crate's parser, `core` (kept between calls to reuse its
/// tables). The chunk's bytes move to `rows` (and its old buffer to the chunk, for reuse).
pub fn split(chunk: &mut Chunk, delimiter: u8, core: &mut Core, rows: &mut Rows) {
    rows.clear();
    let mut raw = rows.take_raw();
    std::mem::swap(&mut raw, &mut chunk.bytes);
    split_into(&raw, chunk, delimiter, core, rows);
    let end = chunk.offset + raw.len() as u64;
    rows.put_raw(raw);
    rows.set_place(chunk.first_record, end);
}

/// The csv crate's parser and its buffers, kept by a splitting thread between chunks.
pub struct Core {
    reader: csv_core::Reader,
    unescaped: Vec<u8>,
    ends: Vec<usize>,
    delimiters: Vec<u32>,
}

/// A parser for the records that hold quotes, reading as the csv crate's reader does.
pub fn core_reader(delimiter: u8) -> Core {
    Core {
        reader: csv_core::ReaderBuilder::new().delimiter(delimiter).build(),
        unescaped: Vec::new(),
        ends: Vec::new(),
        delimiters: Vec::new(),
    }
}

/// The offsets of `delimiter` in `line`, in order, into `out` (cleared first). Eight bytes are
/// compared at once as one integer; a claim line's delimiters are dense (most fields of a wide
/// layout are empty), so each found one costs a few instructions rather than a search.
fn find_delimiters(line: &[u8], delimiter: u8, out: &mut Vec<u32>) {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    out.clear();
    out.reserve(line.len());
    let pattern = ONES * u64::from(delimiter);
    let mut words = line.chunks_exact(8);
    let mut base = 0u32;
    for word in &mut words {
        let x = u64::from_le_bytes(word.try_into().expect("8 bytes")) ^ pattern;
        // The top bit of each byte of `x` that is zero (no carry crosses a byte: exact).
        let mut found = !(((x & LOW7) + LOW7) | x | LOW7);
        while found != 0 {
            out.push(base + found.trailing_zeros() / 8);
            found &= found - 1;
        }
        base += 8;
    }
    for (i, &b) in words.remainder().iter().enumerate() {
        if b == delimiter {
            out.push(base + i as u32);
        }
    }
}

fn split_into(bytes: &[u8], chunk: &Chunk, delimiter: u8, core: &mut Core, rows: &mut Rows) {
    let mut line = chunk.first_line;
    let mut at = 0;
    let Core {
        reader,
        unescaped,
        ends,
        delimiters,
    } = core;
    while at < bytes.len() {
        let b = bytes[at];
        if b == b'\n' || b == b'\r' {
            if b == b'\r' || at == 0 || bytes[at - 1] != b'\r' {
                line += 1;
            }
            at += 1;
            continue;
        }
        let offset = chunk.offset + at as u64;
        // The line's end and whether it holds a quote (both found with SIMD), then its
        // delimiters, eight bytes at a time.
        let end = memchr::memchr2(b'\n', b'\r', &bytes[at..]).map_or(bytes.len(), |k| at + k);
        if memchr::memchr(b'"', &bytes[at..end]).is_none() {
            find_delimiters(&bytes[at..end], delimiter, delimiters);
            rows.push_line((at, end), delimiters, line, offset);
            at = end;
            continue;
        }
        // A record with a quote: the csv crate's parser reads it, line breaks in quotes and all.
        reader.reset();
        let (mut read, mut written, mut fields) = (0, 0, 0);
        loop {
            if written == unescaped.len() {
                unescaped.resize((unescaped.len() * 2).max(256), 0);
            }
            if fields == ends.len() {
                ends.resize((ends.len() * 2).max(16), 0);
            }
            let (result, nin, nout, nend) = reader.read_record(
                &bytes[at + read..],
                &mut unescaped[written..],
                &mut ends[fields..],
            );
            read += nin;
            written += nout;
            fields += nend;
            use csv_core::ReadRecordResult as R;
            match result {
                // At the chunk's end, an empty read finishes the record.
                R::InputEmpty | R::OutputFull | R::OutputEndsFull => continue,
                R::Record | R::End => break,
            }
        }
        rows.push_unescaped(&unescaped[..written], &ends[..fields], line, offset);
        // The record's own line breaks (in quotes, and the one that ends it).
        let taken = &bytes[at..at + read];
        line += count_breaks(taken);
        at += read;
        if taken.last() == Some(&b'\r') && bytes.get(at) == Some(&b'\n') {
            // The LF of the record's CRLF: its line is counted.
            at += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Every delimiter is found, whatever the bytes around it (the bytes next to it in value
        /// above all, and bytes with the top bit set), and nothing else.
        #[test]
        fn delimiters_are_found_eight_bytes_at_a_time(
            line in proptest::collection::vec(prop_oneof![
                Just(b','), Just(b'-'), Just(b'+'), Just(b'|'), Just(b'}'), Just(0u8), Just(0x80u8),
                Just(0xacu8), Just(0xffu8), any::<u8>()
            ], 0..80),
            delimiter in prop_oneof![Just(b','), Just(b'|'), Just(b'\t'), Just(0x80u8), any::<u8>()],
        ) {
            let mut found = vec![7];
            find_delimiters(&line, delimiter, &mut found);
            let want: Vec<u32> = line
                .iter()
                .enumerate()
                .filter(|(_, b)| **b == delimiter)
                .map(|(i, _)| i as u32)
                .collect();
            prop_assert_eq!(found, want);
        }
    }

    /// Records (fields and first line) and the record an unclosed quote swallowed.
    type Parsed = (Vec<(Vec<Vec<u8>>, u64)>, Option<(u64, u64)>);

    /// Records as the csv crate reads them: fields and true lines (the line its position is on,
    /// after the blank lines the parser skipped from there), and the record an unclosed quote
    /// swallowed as [`crate::csvio::Records`] finds it.
    fn by_csv(text: &[u8], delimiter: u8) -> Parsed {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(text);
        let mut out = Vec::new();
        for record in reader.byte_records() {
            let record = record.unwrap();
            let at = record.position().unwrap().byte() as usize;
            let blank = text[at..]
                .iter()
                .take_while(|&&b| b == b'\n' || b == b'\r')
                .count();
            let line = 1 + count_breaks(&text[..at + blank]);
            out.push((record.iter().map(<[u8]>::to_vec).collect(), line));
        }
        let mut records = crate::csvio::Records::new(text, "t.csv", delimiter);
        let mut record = csv::ByteRecord::new();
        while records.read(&mut record).unwrap() {}
        (out, records.swallowed())
    }

    /// Records as the cutter and `split` read them, in chunks of at least `size` bytes.
    fn by_chunks(text: &[u8], delimiter: u8, size: usize) -> Parsed {
        let mut cutter = Cutter::new(text, "t.csv", delimiter).with_chunk_bytes(size);
        let (mut chunk, mut batch) = (Chunk::default(), Rows::default());
        let mut core = core_reader(delimiter);
        let mut out = Vec::new();
        let mut offset = 0;
        while cutter.next_chunk(&mut chunk).unwrap() {
            assert_eq!(chunk.offset, offset, "chunks follow each other");
            assert_eq!(chunk.first_record, out.len() as u64);
            offset = chunk.end();
            split(&mut chunk, delimiter, &mut core, &mut batch);
            assert_eq!(
                batch.len() as u64,
                chunk.records,
                "the cutter counts records"
            );
            for record in batch.iter() {
                let fields: Vec<Vec<u8>> = record.iter().map(<[u8]>::to_vec).collect();
                if let Some(raw) = record.raw() {
                    let joined = fields.join(&delimiter);
                    assert_eq!(raw, &joined[..], "a raw line is its fields joined");
                }
                out.push((fields, record.line()));
            }
        }
        assert_eq!(offset, text.len() as u64, "every byte is in a chunk");
        let swallowed = *cutter.swallowed().lock().unwrap();
        (out, swallowed)
    }

    fn same(text: &[u8], delimiter: u8) {
        let expected = by_csv(text, delimiter);
        for size in [1, 2, 3, 5, 8, 64, 1 << 20] {
            let got = by_chunks(text, delimiter, size);
            assert_eq!(
                got,
                expected,
                "chunks of {size} in {:?}",
                String::from_utf8_lossy(text)
            );
        }
    }

    #[test]
    fn reads_as_the_csv_crate_does() {
        for text in [
            &b"a,b\n1,2\n"[..],
            b"a,b\r\n1,2\r\n",
            b"a,b\r1,2\r",
            b"a\r\nb\nc\rd\r\n",
            b"\"a\r\nb\",x\r\nc\r\n",
            b"a\n\n\nb\n\"c\nd\"\n",
            b"\n\na\rb",
            b"ab\"c,d\ne,\"f\"\"g\"\n",
            b"\"a\"b\"c\",d\n\"\"\n",
            b"x,\"never closed\nmore\nlines",
            b"x,\"never closed",
            b"\"",
            b"a,b",
            b"",
            b"\r\n\r\n",
            b"1,\"a\"\r\n2,b\r\n",
        ] {
            same(text, b',');
        }
        same(b"a|\"b|c\"|d\n1|2|3\n", b'|');
        // A quoted record longer than the parser's first buffers.
        let long = format!(
            "a,\"{}\",{}\n\"x\",y\n",
            "q\"\"".repeat(400),
            "b,".repeat(40)
        );
        same(long.as_bytes(), b',');
    }

    #[test]
    fn a_quote_never_closed_swallows_the_rest() {
        let swallowed = |text: &[u8]| by_chunks(text, b',', 3).1;
        assert_eq!(swallowed(b"a\nx,\"open\nmore\nlines"), Some((2, 2)));
        assert_eq!(swallowed(b"a\r\n\r\n\"open\r\nmore"), Some((3, 2)));
        // No line break in it: the last record, not the rest of the file.
        assert_eq!(swallowed(b"a\nx,\"open"), None);
        // A quote inside an unquoted field is text; one that closes before the end is closed.
        assert_eq!(swallowed(b"ab\"c\nd\ne"), None);
        assert_eq!(swallowed(b"\"a\nb\"\nc"), None);
        // A literal quote, then a quoted field that runs to the end: counting quotes misses it.
        assert_eq!(swallowed(b"a\",\"\n"), Some((1, 1)));
        assert_eq!(swallowed(b"x\na\",\"\nb"), Some((2, 2)));
        let mut records = crate::csvio::Records::new(&b"x\na\",\"\nb"[..], "t.csv", b',');
        let mut record = csv::ByteRecord::new();
        while records.read(&mut record).unwrap() {}
        assert_eq!(records.swallowed(), Some((2, 2)));
    }

    proptest! {
        #[test]
        fn generated_input_reads_as_the_csv_crate_does(
            bytes in proptest::collection::vec(
                prop_oneof![
                    Just(b'a'), Just(b'b'), Just(b','), Just(b'"'), Just(b'\n'), Just(b'\r'),
                    Just(b' '), Just(b'|'),
                ],
                0..60,
            ),
        ) {
            // The csv crate's records, and the record an unclosed quote swallows as
            // `csvio::Records` (which reads decisions and audits) finds it.
            let expected = by_csv(&bytes, b',');
            for size in [1, 4, 16, 1 << 20] {
                let got = by_chunks(&bytes, b',', size);
                prop_assert_eq!(got, expected.clone());
            }
        }
    }

    #[test]
    fn a_record_over_the_bound_is_stopped_naming_its_line() {
        let mut text = b"a\r\nb\r\n\r\n\"".to_vec();
        text.resize(text.len() + MAX_RECORD_BYTES as usize + 10, b'x');
        let mut cutter = Cutter::new(&text[..], "t.csv", b',');
        let mut chunk = Chunk::default();
        let error = loop {
            match cutter.next_chunk(&mut chunk) {
                Ok(true) => {}
                Ok(false) => panic!("the input was read to the end"),
                Err(e) => break e.to_string(),
            }
        };
        assert!(
            error.starts_with("t.csv:4: the record starting on line 4"),
            "{error}"
        );
    }
}
