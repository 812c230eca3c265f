//! [`Rows`]: the records of one chunk of a claim file, split without copying, and [`Fields`],
//! one record's view of them.
//!
//! A line that holds no quote is its record: its fields are read in place, between the
//! delimiters the splitter noted, and a field left untouched can be copied to the output as
//! the line has it. A record with quotes is unescaped once into a side buffer laid out the same
//! way (each field followed by one separator byte), so every record is read alike.

/// What the converter reads of a record: its fields by index.
pub trait Record: std::fmt::Debug {
    /// How many fields it has.
    fn width(&self) -> usize;
    /// Field `i`, if it has one.
    fn field(&self, i: usize) -> Option<&[u8]>;
}

impl Record for csv::ByteRecord {
    fn width(&self) -> usize {
        self.len()
    }
    fn field(&self, i: usize) -> Option<&[u8]> {
        self.get(i)
    }
}

/// One record of [`Rows`]: its fields, the line it starts on and its input offset.
#[derive(Clone, Copy, Debug)]
pub struct Fields<'a> {
    /// The fields, each but the last followed by one separator byte (the delimiter, in a line).
    text: &'a [u8],
    /// Where each field ends in `text`.
    ends: &'a [u32],
    /// `text` is the record's line, exactly as the input has it.
    raw: bool,
    line: u64,
    offset: u64,
}

impl<'a> Fields<'a> {
    /// How many fields the record has.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// True when the record has no field.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Field `i`, if the record has one.
    #[inline]
    pub fn get(&self, i: usize) -> Option<&'a [u8]> {
        let end = *self.ends.get(i)? as usize;
        Some(&self.text[self.start(i)..end])
    }

    #[inline]
    fn start(&self, i: usize) -> usize {
        if i == 0 {
            0
        } else {
            self.ends[i - 1] as usize + 1
        }
    }

    /// The fields, in order.
    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let fields = *self;
        (0..fields.len()).map(move |i| fields.get(i).unwrap_or_default())
    }

    /// The 1-based line the record starts on.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// The input offset of the record's first byte.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The record's line, when it holds no quote: its fields joined by the delimiter, byte for
    /// byte as the input has them.
    pub fn raw(&self) -> Option<&'a [u8]> {
        self.raw.then_some(self.text)
    }

    /// The line's bytes of fields `a..b` (a non-empty run), delimiters between them included;
    /// only for a record with a raw line.
    pub fn raw_span(&self, a: usize, b: usize) -> &'a [u8] {
        debug_assert!(self.raw && a < b);
        &self.text[self.start(a)..self.ends[b - 1] as usize]
    }

    /// The bytes of all fields with a separator between each two: as many line breaks as the
    /// fields hold.
    pub fn text(&self) -> &'a [u8] {
        self.text
    }

    /// The fields as a `csv::ByteRecord`.
    pub fn to_byte_record(&self) -> csv::ByteRecord {
        self.iter().collect()
    }
}

impl Record for Fields<'_> {
    fn width(&self) -> usize {
        self.len()
    }
    fn field(&self, i: usize) -> Option<&[u8]> {
        self.get(i)
    }
}

/// Where one record of [`Rows`] lies.
#[derive(Clone, Copy, Debug)]
struct Place {
    /// In `Rows::raw` (a line) or in `Rows::quoted`.
    raw: bool,
    /// The record's text: `start..end` of its buffer.
    start: u32,
    end: u32,
    /// Its field ends: `Rows::ends[first..first + count]`, relative to `start`.
    first: u32,
    count: u32,
    line: u64,
    offset: u64,
}

/// The records of one chunk of input, kept for reuse: [`Rows::clear`] forgets the records but
/// not the buffers.
#[derive(Debug, Default)]
pub struct Rows {
    /// The chunk's bytes, which lines without quotes are read in.
    raw: Vec<u8>,
    /// The unescaped fields of records with quotes.
    quoted: Vec<u8>,
    ends: Vec<u32>,
    places: Vec<Place>,
    /// Records of the input before the first (a header included), and the input offset just
    /// after the chunk.
    first_record: u64,
    end: u64,
}

impl Rows {
    /// How many records there are.
    pub fn len(&self) -> usize {
        self.places.len()
    }

    /// True when there is no record.
    pub fn is_empty(&self) -> bool {
        self.places.is_empty()
    }

    /// Record `i`.
    #[inline]
    pub fn get(&self, i: usize) -> Fields<'_> {
        let p = self.places[i];
        let text = if p.raw { &self.raw } else { &self.quoted };
        Fields {
            text: &text[p.start as usize..p.end as usize],
            ends: &self.ends[p.first as usize..(p.first + p.count) as usize],
            raw: p.raw,
            line: p.line,
            offset: p.offset,
        }
    }

    /// The records, in order.
    pub fn iter(&self) -> impl Iterator<Item = Fields<'_>> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }

    /// How many records of the input come before the first (a header included).
    pub fn first_record(&self) -> u64 {
        self.first_record
    }

    /// The input offset just after the last record.
    pub fn end(&self) -> u64 {
        self.end
    }

    /// The bytes the records were split from.
    pub fn raw_len(&self) -> usize {
        self.raw.len()
    }

    /// Forget every record.
    pub(crate) fn clear(&mut self) {
        self.raw.clear();
        self.quoted.clear();
        self.ends.clear();
        self.places.clear();
    }

    /// Note where in the input the records lie: `first_record` records before them, ending at
    /// offset `end`.
    pub(crate) fn set_place(&mut self, first_record: u64, end: u64) {
        self.first_record = first_record;
        self.end = end;
    }

    /// The chunk's bytes, taken out for splitting (see [`Rows::put_raw`]).
    pub(crate) fn take_raw(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.raw)
    }

    /// Keep `bytes` as the chunk the records are split from.
    pub(crate) fn put_raw(&mut self, bytes: Vec<u8>) {
        self.raw = bytes;
    }

    /// Add the record that is line `start..end` of the chunk, whose delimiters are at `at`
    /// (offsets from `start`).
    pub(crate) fn push_line(
        &mut self,
        (start, end): (usize, usize),
        at: &[u32],
        line: u64,
        offset: u64,
    ) {
        let first = self.ends.len() as u32;
        self.ends.extend_from_slice(at);
        self.ends.push((end - start) as u32);
        self.places.push(Place {
            raw: true,
            start: start as u32,
            end: end as u32,
            first,
            count: at.len() as u32 + 1,
            line,
            offset,
        });
    }

    /// Add a record with quotes, from its unescaped fields (`text`, each ending at the matching
    /// `ends` offset, as the csv crate's parser writes them).
    pub(crate) fn push_unescaped(&mut self, text: &[u8], ends: &[usize], line: u64, offset: u64) {
        let start = self.quoted.len();
        let first = self.ends.len() as u32;
        let mut from = 0;
        for (k, &e) in ends.iter().enumerate() {
            if k > 0 {
                self.quoted.push(b',');
            }
            self.quoted.extend_from_slice(&text[from..e]);
            self.ends.push((self.quoted.len() - start) as u32);
            from = e;
        }
        self.places.push(Place {
            raw: false,
            start: start as u32,
            end: self.quoted.len() as u32,
            first,
            count: ends.len() as u32,
            line,
            offset,
        });
    }

    /// Drop the first record (the header) and return its fields.
    pub(crate) fn take_first(&mut self) -> Option<csv::ByteRecord> {
        let header = (!self.is_empty()).then(|| self.get(0).to_byte_record())?;
        self.places.remove(0);
        self.first_record += 1;
        Some(header)
    }

    /// Rows holding just `record` (line 1), for converting one record outside a file.
    pub fn of_record(record: &csv::ByteRecord) -> Rows {
        let mut rows = Rows::default();
        let ends: Vec<usize> = (0..record.len())
            .map(|i| record.range(i).map_or(0, |r| r.end))
            .collect();
        rows.push_unescaped(record.as_slice(), &ends, 1, 0);
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_quoted_records_read_alike() {
        let mut rows = Rows::default();
        rows.put_raw(b"a,,bc\nx".to_vec());
        rows.push_line((0, 5), &[1, 2], 1, 0);
        rows.push_unescaped(b"q,1\n2", &[3, 5], 2, 6);
        rows.push_line((6, 7), &[], 4, 10);
        let all: Vec<Vec<&[u8]>> = rows.iter().map(|f| f.iter().collect()).collect();
        assert_eq!(
            all,
            vec![
                vec![&b"a"[..], b"", b"bc"],
                vec![&b"q,1"[..], b"\n2"],
                vec![&b"x"[..]]
            ]
        );
        let first = rows.get(0);
        assert_eq!(first.raw(), Some(&b"a,,bc"[..]));
        assert_eq!(first.raw_span(1, 3), b",bc");
        assert_eq!(first.raw_span(0, 1), b"a");
        assert_eq!(rows.get(1).raw(), None);
        assert_eq!((rows.get(1).line(), rows.get(2).offset()), (2, 10));
        assert_eq!(rows.get(1).get(2), None);
        let header = rows.take_first().unwrap();
        assert_eq!(header, csv::ByteRecord::from(vec!["a", "", "bc"]));
        assert_eq!((rows.len(), rows.first_record()), (2, 1));

        let record = csv::ByteRecord::from(vec!["1", "", "x,y"]);
        let one = Rows::of_record(&record);
        assert_eq!(one.get(0).to_byte_record(), record);
    }
}
