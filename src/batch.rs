//! [`Batch`]: a reusable run of CSV records, the unit in which `convert` moves audit records from
//! the converting thread to the writing one.

/// A record whose fields took more than this many bytes is not reused.
const KEEP_BYTES: usize = 2048;

/// A run of records whose buffers are kept for reuse: [`Batch::clear`] forgets the records but
/// not their memory, so a batch filled again and again allocates only while it first grows.
#[derive(Debug, Default)]
pub struct Batch {
    records: Vec<csv::ByteRecord>,
    len: usize,
}

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
    }

    /// Keep only the first `len` records.
    pub fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
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
