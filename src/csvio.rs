//! Reading delimited text safely, the one way every reader of claim files, decisions and audits
//! does it: the delimiter and line ends sniffed from the first line, records bounded in size, and
//! true line numbers for LF, CRLF, CR-only and mixed files (the csv parser counts only LF, so a
//! CRLF file's records are one line early and a CR-only file is "all line 1").

use std::collections::VecDeque;
use std::io::{self, Read};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::error::{Error, Result};

/// The most bytes one record may take. A quote that is never closed turns the rest of the file
/// into one record, which the CSV parser would hold in memory whole (a 50 GiB Medicare file: 50
/// GiB); real claim records are a few KiB, so 16 MiB is a bound no real record meets.
pub const MAX_RECORD_BYTES: u64 = 16 << 20;

/// What the first line says about a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sniffed {
    /// The delimiter: comma, pipe or tab, whichever the first line has most of outside quotes
    /// (comma when none).
    pub delimiter: u8,
    /// The first line ends with CRLF.
    pub crlf: bool,
}

/// Sniff the delimiter and line end of `prefix`, the start of a file.
pub fn sniff(prefix: &[u8]) -> Sniffed {
    let end = memchr::memchr(b'\n', prefix).unwrap_or(prefix.len());
    let line = &prefix[..end];
    let mut counts = [(b',', 0usize), (b'|', 0), (b'\t', 0)];
    let mut quoted = false;
    for &b in line {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted && let Some(c) = counts.iter_mut().find(|(d, _)| *d == b) {
            c.1 += 1;
        }
    }
    let best = counts
        .iter()
        .max_by_key(|(_, n)| *n)
        .expect("three candidates");
    Sniffed {
        delimiter: if best.1 == 0 { b',' } else { best.0 },
        crlf: line.last() == Some(&b'\r'),
    }
}

/// Read up to the first line break (at most 1 MiB) so it can be sniffed and then replayed.
pub fn read_prefix(reader: &mut dyn Read) -> io::Result<Vec<u8>> {
    let mut prefix = Vec::with_capacity(64 * 1024);
    let mut chunk = [0u8; 64 * 1024];
    while prefix.len() < (1 << 20) && !prefix.contains(&b'\n') {
        let n = reader.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        prefix.extend_from_slice(&chunk[..n]);
    }
    Ok(prefix)
}

/// Parse a delimiter option: one ASCII character, `\t` or `tab` for tab.
pub fn parse_delimiter(value: &str) -> std::result::Result<u8, String> {
    match value {
        r"\t" | "tab" => Ok(b'\t'),
        v if v.len() == 1 && v.is_ascii() => Ok(v.as_bytes()[0]),
        v => Err(format!(
            "--delimiter {v:?}: expected one ASCII character, or \\t for tab"
        )),
    }
}

/// Where the line breaks of a stream are: LF, CRLF and a lone CR each end one line. Fed by the
/// reader as bytes go past, asked by whoever holds a record's byte offset; breaks behind the
/// asker are forgotten, so memory stays flat.
#[derive(Debug, Default)]
pub struct LineIndex {
    /// Breaks forgotten (all before the positions still asked about).
    passed: u64,
    /// Offsets just after the first byte of each break not yet forgotten, ascending.
    breaks: VecDeque<u64>,
    /// Bytes fed so far.
    offset: u64,
    /// The last byte fed was a CR (an LF next belongs to it).
    last_cr: bool,
    /// Where the bytes fed end, as the csv parser reads quotes: a quote still open at the end
    /// of the input was never closed.
    quoting: Quoting,
    /// The first line and the number (counting from 1, header included) of a record that an
    /// unclosed quote ran to the end of the input.
    swallowed: Option<(u64, u64)>,
}

impl LineIndex {
    fn feed(&mut self, bytes: &[u8]) {
        for i in memchr::memchr2_iter(b'\n', b'\r', bytes) {
            let after_cr = if i == 0 {
                self.last_cr
            } else {
                bytes[i - 1] == b'\r'
            };
            if bytes[i] == b'\r' || !after_cr {
                self.breaks.push_back(self.offset + i as u64 + 1);
            }
        }
        if let Some(&last) = bytes.last() {
            self.last_cr = last == b'\r';
        }
        self.quoting.feed(bytes);
        self.offset += bytes.len() as u64;
    }

    /// The 1-based line of the byte at `offset`.
    pub fn line_at(&self, offset: u64) -> u64 {
        self.passed + self.breaks.partition_point(|&b| b <= offset) as u64 + 1
    }

    /// True when the bytes fed end inside a quoted field: its quote was never closed.
    fn quote_open(&self) -> bool {
        self.quoting.state == Quote::In
    }

    /// The first line and number (from 1, header included) of the record an unclosed quote
    /// turned into the rest of the input, once it has been read.
    pub fn swallowed(&self) -> Option<(u64, u64)> {
        self.swallowed
    }

    /// No offset before `offset` will be asked about again.
    pub fn forget_before(&mut self, offset: u64) {
        while self.breaks.front().is_some_and(|&b| b <= offset) {
            self.breaks.pop_front();
            self.passed += 1;
        }
    }
}

/// Where a stream is as the csv crate's parser reads quotes: a quote opens a quoted field only
/// at the start of a field (elsewhere it is text), and a doubled quote in one is an escaped
/// quote. Counting quotes is not enough: `a",""` ends inside a quoted field.
#[derive(Debug)]
struct Quoting {
    delimiter: u8,
    state: Quote,
    /// Outside quotes: the next byte starts a field.
    field_start: bool,
    /// Bytes of a UTF-8 byte-order mark still to be matched at the start of the input, which
    /// the csv parser skips: a quote after it opens a quoted field.
    bom: usize,
}

#[derive(Debug, PartialEq, Eq)]
enum Quote {
    Out,
    In,
    /// A quote met in a quoted field: it closes it, unless another follows.
    Closing,
}

impl Default for Quoting {
    fn default() -> Quoting {
        Quoting {
            delimiter: b',',
            state: Quote::Out,
            field_start: true,
            bom: 0,
        }
    }
}

impl Quoting {
    fn feed(&mut self, bytes: &[u8]) {
        let mut i = 0;
        const BOM: &[u8] = b"\xef\xbb\xbf";
        while self.bom < BOM.len() && i < bytes.len() {
            if bytes[i] != BOM[self.bom] {
                // No mark: what was taken for one is text, and the field has begun.
                if self.bom > 0 {
                    self.field_start = false;
                }
                self.bom = BOM.len();
                break;
            }
            self.bom += 1;
            i += 1;
        }
        while i < bytes.len() {
            match self.state {
                Quote::Out => {
                    if self.field_start && bytes[i] == b'"' {
                        self.state = Quote::In;
                        self.field_start = false;
                        i += 1;
                        continue;
                    }
                    // Up to the end of the field: a quote before it is text.
                    match memchr::memchr3(self.delimiter, b'\n', b'\r', &bytes[i..]) {
                        Some(k) => {
                            self.field_start = true;
                            i += k + 1;
                        }
                        None => {
                            self.field_start = false;
                            i = bytes.len();
                        }
                    }
                }
                Quote::In => match memchr::memchr(b'"', &bytes[i..]) {
                    Some(k) => {
                        self.state = Quote::Closing;
                        i += k + 1;
                    }
                    None => i = bytes.len(),
                },
                Quote::Closing if bytes[i] == b'"' => {
                    self.state = Quote::In;
                    i += 1;
                }
                // The quoted part ended; the field goes on unquoted or ends here.
                Quote::Closing => {
                    self.state = Quote::Out;
                    self.field_start = false;
                }
            }
        }
    }
}

/// A [`LineIndex`] shared between the thread that reads and the threads that report.
#[derive(Clone, Debug, Default)]
pub struct Lines(Arc<Mutex<LineIndex>>);

impl Lines {
    /// The index, locked.
    pub fn lock(&self) -> MutexGuard<'_, LineIndex> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The error a [`Bounded`] read fails with: a record over [`MAX_RECORD_BYTES`].
#[derive(Debug)]
pub struct RecordTooLong {
    /// The line the record starts on.
    pub line: u64,
}

impl std::fmt::Display for RecordTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the record starting on line {} runs over {} MiB: a quote opened in it is probably \
             never closed",
            self.line,
            MAX_RECORD_BYTES >> 20
        )
    }
}

impl std::error::Error for RecordTooLong {}

/// Input as the CSV parser reads it: line breaks noted in [`Lines`], and no read more than
/// [`MAX_RECORD_BYTES`] past the start of the record being read.
pub struct Bounded<R> {
    inner: R,
    read: u64,
    record_start: u64,
    lines: Lines,
}

impl<R> Bounded<R> {
    /// `inner`, with its line breaks noted in `lines`.
    pub fn new(inner: R, lines: Lines) -> Bounded<R> {
        Bounded {
            inner,
            read: 0,
            record_start: 0,
            lines,
        }
    }
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.read - self.record_start > MAX_RECORD_BYTES {
            let line = self.lines.lock().line_at(self.record_start);
            return Err(io::Error::other(RecordTooLong { line }));
        }
        let n = self.inner.read(buf)?;
        self.lines.lock().feed(&buf[..n]);
        self.read += n as u64;
        Ok(n)
    }
}

/// Records of delimited text, with their true line numbers.
pub struct Records<R> {
    reader: csv::Reader<Bounded<R>>,
    lines: Lines,
    name: String,
    count: u64,
}

impl<R: Read> Records<R> {
    /// Records of `input`, the file called `name` in errors, split at `delimiter`. Every record
    /// is returned as it is, whatever its width: the caller checks widths, so that it can name
    /// the line or pass a ragged row through.
    pub fn new(input: R, name: &str, delimiter: u8) -> Records<R> {
        let lines = Lines::default();
        lines.lock().quoting.delimiter = delimiter;
        let reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            // Large enough to amortise read calls; the reader is not wrapped in a BufReader.
            .buffer_capacity(1 << 16)
            .from_reader(Bounded::new(input, lines.clone()));
        Records {
            reader,
            lines,
            name: name.to_string(),
            count: 0,
        }
    }

    /// Read the next record into `record`; false at the end. The record's position carries its
    /// true line (see [`Records::line_of`]).
    pub fn read(&mut self, record: &mut csv::ByteRecord) -> Result<bool> {
        let more = self
            .reader
            .read_byte_record(record)
            .map_err(|e| self.error(e))?;
        let end = self.reader.position().byte();
        self.reader.get_mut().record_start = end;
        if more {
            self.count += 1;
            // The parser gives a record the position where it started looking, before any blank
            // lines it skipped; its true first line is its last line less the line breaks in
            // its fields.
            let mut lines = self.lines.lock();
            // A record cut off by the end of the input inside an open quote has no terminator:
            // its last byte is one of its own line breaks.
            let unterminated = lines.quote_open() && end == lines.offset;
            let last = lines.line_at(if unterminated {
                end
            } else {
                end.saturating_sub(1)
            });
            let breaks = count_breaks(record.as_slice());
            let line = last.saturating_sub(breaks);
            // The csv parser reads an unclosed quote as a field running to the end of the
            // input: a record cut off so, holding line breaks, is that, not data.
            if unterminated && breaks > 0 {
                lines.swallowed = Some((line, self.count));
            }
            lines.forget_before(end.saturating_sub(1));
            let mut position = record
                .position()
                .cloned()
                .unwrap_or_else(csv::Position::new);
            position.set_line(line);
            record.set_position(Some(position));
        }
        Ok(more)
    }

    /// The record an unclosed quote ran to the end of the input, once read: its first line and
    /// its number (from 1, header included).
    pub fn swallowed(&self) -> Option<(u64, u64)> {
        self.lines.lock().swallowed()
    }

    /// The 1-based line `record` (read by this reader) starts on.
    pub fn line_of(&self, record: &csv::ByteRecord) -> u64 {
        line_of(record)
    }

    fn error(&self, error: csv::Error) -> Error {
        let path = std::path::PathBuf::from(&self.name);
        if let csv::ErrorKind::Io(e) = error.kind()
            && let Some(too_long) = e.get_ref().and_then(|e| e.downcast_ref::<RecordTooLong>())
        {
            return Error::parse(path, too_long.line, too_long.to_string());
        }
        let line = error
            .position()
            .map(|p| self.lines.lock().line_at(p.byte()));
        match error.into_kind() {
            csv::ErrorKind::Io(e) => Error::io(Some(path), e),
            other => Error::parse(path, line.unwrap_or(0), format!("{other:?}")),
        }
    }
}

/// The 1-based line a record read by [`Records::read`] starts on.
pub fn line_of(record: &csv::ByteRecord) -> u64 {
    record.position().map_or(0, |p| p.line())
}

/// Line breaks in `bytes`, counted as [`LineIndex`] counts them: an LF right after a CR belongs
/// to it.
pub fn count_breaks(bytes: &[u8]) -> u64 {
    memchr::memchr2_iter(b'\n', b'\r', bytes)
        .filter(|&i| bytes[i] == b'\r' || i == 0 || bytes[i - 1] != b'\r')
        .count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A byte-order mark first (as spreadsheets write a decisions file) is skipped, as the csv
    /// parser skips it: the quote after it opens a field that swallows the rest.
    #[test]
    fn a_byte_order_mark_does_not_hide_an_unclosed_quote() {
        for text in [&b"\xef\xbb\xbf\"open\nmore"[..], b"\"open\nmore"] {
            let mut records = Records::new(text, "d.csv", b',');
            let mut record = csv::ByteRecord::new();
            while records.read(&mut record).unwrap() {}
            assert_eq!(records.swallowed(), Some((1, 1)), "{text:?}");
        }
        // Bytes that only begin like a mark are text: the quote after them is text too.
        let mut records = Records::new(&b"\xef\xbbx\"y\nz"[..], "d.csv", b',');
        let mut record = csv::ByteRecord::new();
        while records.read(&mut record).unwrap() {}
        assert_eq!(records.swallowed(), None);
    }

    fn lines_of(text: &[u8], chunk: usize) -> Vec<u64> {
        let mut records = Records::new(ChunkReader(text, chunk), "t.csv", b',');
        let mut record = csv::ByteRecord::new();
        let mut out = Vec::new();
        while records.read(&mut record).unwrap() {
            out.push(records.line_of(&record));
        }
        out
    }

    /// Reads at most `.1` bytes at a time, so that breaks fall across reads.
    struct ChunkReader<'a>(&'a [u8], usize);

    impl Read for ChunkReader<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.0.len().min(self.1).min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn true_lines_for_every_line_end() {
        for chunk in [1, 2, 3, 7, 1 << 16] {
            assert_eq!(lines_of(b"a\nb\nc\n", chunk), [1, 2, 3], "LF");
            assert_eq!(lines_of(b"a\r\nb\r\nc\r\n", chunk), [1, 2, 3], "CRLF");
            assert_eq!(lines_of(b"a\rb\rc\r", chunk), [1, 2, 3], "CR");
            assert_eq!(lines_of(b"a\r\nb\nc\rd\r\n", chunk), [1, 2, 3, 4], "mixed");
            // A quoted field over two lines: the next record starts on line 3.
            assert_eq!(lines_of(b"\"a\r\nb\",x\r\nc\r\n", chunk), [1, 3], "quoted");
            // Blank lines are skipped, not counted as the next record's first line.
            assert_eq!(
                lines_of(b"a\n\n\nb\n\"c\nd\"\n", chunk),
                [1, 4, 5],
                "blank LF"
            );
            assert_eq!(lines_of(b"a\r\n\r\nb\r\n", chunk), [1, 3], "blank CRLF");
            assert_eq!(lines_of(b"\n\na\rb", chunk), [3, 4], "leading blanks");
        }
    }

    #[test]
    fn sniffing() {
        assert_eq!(
            sniff(b"a|b|c\r\n1|2|3"),
            Sniffed {
                delimiter: b'|',
                crlf: true
            }
        );
        assert_eq!(
            sniff(b"\"a,b\"\tc\td\n"),
            Sniffed {
                delimiter: b'\t',
                crlf: false
            }
        );
        assert_eq!(
            sniff(b"abc"),
            Sniffed {
                delimiter: b',',
                crlf: false
            }
        );
        assert_eq!(parse_delimiter(r"\t"), Ok(b'\t'));
        assert!(parse_delimiter(";;").is_err());
    }
}
