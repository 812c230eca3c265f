//! [`Batch`]: a reusable run of CSV records, the unit in which `convert` moves records between
//! reading, converting and writing (and between threads, when those run apart).

/// A record whose fields took more than this many bytes is not reused.
const KEEP_BYTES: usize = 2048;

/// A run of records whose buffers are kept for reuse: [`Batch::clear`] forgets the records but
/// not their memory, so a batch filled again and again allocates only while it first grows.
#[derive(Debug, Default)]
pub struct Batch {
    records: Vec<csv::ByteRecord>,
    len: usize,
    /// The bytes the records were split from, when they were (see [`crate::chunk::split`]).
    raw: Vec<u8>,
    /// Per record: its line's span in `raw` when the line holds no quote (its fields, joined by
    /// the delimiter, are then exactly that line); `NONE` otherwise.
    spans: Vec<(u32, u32)>,
    /// Records before the first one (a header included), and the input offset after the last.
    first_record: u64,
    end: u64,
}

/// The span of a record that has no raw line.
const NONE: (u32, u32) = (u32::MAX, u32::MAX);

impl Batch {
    /// The records in use, in order.
    pub fn records(&self) -> &[csv::ByteRecord] {
        &self.records[..self.len]
    }

    /// How many records are in use.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when no record is in use.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Forget every record (their buffers are kept).
    pub fn clear(&mut self) {
        self.len = 0;
        self.raw.clear();
        self.spans.clear();
    }

    /// The line record `i` was split from, when it holds no quote: its fields joined by the
    /// delimiter, byte for byte.
    pub fn raw(&self, i: usize) -> Option<&[u8]> {
        match self.spans.get(i) {
            Some(&(a, b)) if (a, b) != NONE => Some(&self.raw[a as usize..b as usize]),
            _ => None,
        }
    }

    /// How many records of the input come before this batch's first (a header included).
    pub fn first_record(&self) -> u64 {
        self.first_record
    }

    /// The input offset just after the batch's last record.
    pub fn end(&self) -> u64 {
        self.end
    }

    /// Note where in the input the batch lies: `first_record` records before it, ending at
    /// offset `end`.
    pub(crate) fn set_place(&mut self, first_record: u64, end: u64) {
        self.first_record = first_record;
        self.end = end;
    }

    /// Take the first record out (the header), and return it.
    pub fn take_first(&mut self) -> Option<csv::ByteRecord> {
        if self.len == 0 {
            return None;
        }
        let first = self.records.remove(0);
        if !self.spans.is_empty() {
            self.spans.remove(0);
        }
        self.len -= 1;
        self.first_record += 1;
        Some(first)
    }

    /// The text the records are split from, taken out for splitting (see [`Batch::put_raw`]).
    pub(crate) fn take_raw(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.raw)
    }

    /// The length of the text the records were split from.
    pub(crate) fn raw_len(&self) -> usize {
        self.raw.len()
    }

    /// Keep `bytes` as the text the records were split from.
    pub(crate) fn put_raw(&mut self, bytes: Vec<u8>) {
        self.raw = bytes;
    }

    /// Append an empty record split from `raw[start..end]`, which holds no quote.
    pub(crate) fn push_raw(&mut self, start: usize, end: usize) -> &mut csv::ByteRecord {
        let (start, end) = (u32::try_from(start), u32::try_from(end));
        self.spans.resize(self.len, NONE);
        self.spans.push(match (start, end) {
            (Ok(a), Ok(b)) => (a, b),
            _ => NONE,
        });
        self.push()
    }

    /// Append an empty record read from quoted text (it has no raw line).
    pub(crate) fn push_quoted(&mut self) -> &mut csv::ByteRecord {
        self.spans.resize(self.len, NONE);
        self.spans.push(NONE);
        self.push()
    }

    /// Keep only the first `len` records.
    pub fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
        self.spans.truncate(self.len);
    }

    /// Append an empty record and return it for filling.
    pub fn push(&mut self) -> &mut csv::ByteRecord {
        if self.len == self.records.len() {
            self.records.push(csv::ByteRecord::new());
        }
        self.len += 1;
        let slot = &mut self.records[self.len - 1];
        if slot.as_slice().len() > KEEP_BYTES {
            // Reused slots keep their capacity; one outsized record (an audit row listing many
            // alternatives) must not hold that much memory in this slot for the rest of the run.
            *slot = csv::ByteRecord::new();
        } else {
            slot.clear();
        }
        slot
    }

    /// Write every record in use to `writer`, in order.
    pub fn write_to<W: std::io::Write>(&self, writer: &mut csv::Writer<W>) -> csv::Result<()> {
        self.records()
            .iter()
            .try_for_each(|record| writer.write_byte_record(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reuse_keeps_order_and_forgets_old_fields() {
        let mut batch = Batch::default();
        batch.push().push_field(b"a");
        batch.push().extend([&b"b"[..], b"c"]);
        assert_eq!(batch.len(), 2);
        batch.clear();
        assert!(batch.is_empty());
        batch.push().push_field(b"d");
        batch.push().push_field(b"e,f");
        batch.push().push_field(b"g");
        batch.truncate(2);
        let fields: Vec<Vec<&[u8]>> = batch.records().iter().map(|r| r.iter().collect()).collect();
        assert_eq!(fields, vec![vec![&b"d"[..]], vec![&b"e,f"[..]]]);

        let mut writer = csv::Writer::from_writer(Vec::new());
        batch.write_to(&mut writer).unwrap();
        assert_eq!(writer.into_inner().unwrap(), b"d\n\"e,f\"\n");
    }

    #[test]
    fn a_large_record_does_not_pin_its_buffer() {
        let mut batch = Batch::default();
        batch.push().push_field(&[b'x'; 3 * KEEP_BYTES]);
        batch.clear();
        let slot = batch.push();
        assert!(slot.is_empty());
        slot.push_field(b"small");
        assert_eq!(batch.records()[0].as_slice(), b"small");
    }
}
