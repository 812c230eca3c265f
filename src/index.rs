//! The index of a code set: every code, sorted, with whether it is billable and where its title
//! is in the code-set text.
//!
//! The built-in code sets are indexed when the program is built (`build.rs` includes this file),
//! so start-up parses nothing, and a look-up is a binary search that reads a few entries and the
//! one title it needs instead of the whole 14 MiB order file. Code sets read from other text are
//! indexed at run time by the same function.
//!
//! An entry is [`ENTRY`] bytes: the code's seven canonical bytes (zero-padded, so byte order is
//! code order and a prefix sorts first), a flags byte (bit 0: billable), the title's offset in the
//! text and its length (both `u32`, little-endian).

use crate::code::{Code, System};

/// Bytes per entry.
pub const ENTRY: usize = 16;

/// How the lines of a code-set text are laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// `CODE TITLE`: the code, blank padding, the title (CMS32 ICD-9-CM title files, the
    /// ICD-10-PCS codes file). Every code listed is billable.
    Titles,
    /// The CMS ICD-10-CM order file: columns 7–13 the code, 15 `1` billable / `0` header, 17–76
    /// the short title, 78– the long title.
    OrderFile,
}

/// One line that could not be read: its 1-based number and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadLine {
    /// 1-based line number.
    pub line: u64,
    /// What is wrong with the line.
    pub message: String,
}

/// Index `text`, a code set of `system` laid out as `layout`. A code listed twice keeps its last
/// line.
pub fn build(system: System, layout: Layout, text: &[u8]) -> Result<Vec<u8>, BadLine> {
    let mut entries: Vec<[u8; ENTRY]> = Vec::with_capacity(text.len() / 60);
    let mut start = 0;
    let mut line_no = 0u64;
    while start < text.len() {
        line_no += 1;
        let end = text[start..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(text.len(), |i| start + i);
        let mut line = &text[start..end];
        if let [rest @ .., b'\r'] = line {
            line = rest;
        }
        if !line.trim_ascii().is_empty() {
            let bad = |message: String| BadLine {
                line: line_no,
                message,
            };
            let (code_field, billable, title) = match layout {
                Layout::Titles => {
                    let split = line
                        .iter()
                        .position(|b| b.is_ascii_whitespace())
                        .unwrap_or(line.len());
                    (&line[..split], true, trim_range(line, split, line.len()))
                }
                Layout::OrderFile => {
                    if line.len() < 17 {
                        return Err(bad("too short for the order-file layout (order number, \
                                        code, billable flag, titles)"
                            .to_string()));
                    }
                    let billable = match line[14] {
                        b'1' => true,
                        b'0' => false,
                        other => {
                            return Err(bad(format!(
                                "column 15 must be 1 (billable) or 0 (header), found {:?}",
                                other as char
                            )));
                        }
                    };
                    let title = if line.len() > 77 {
                        trim_range(line, 77, line.len())
                    } else {
                        trim_range(line, 16, line.len())
                    };
                    (&line[6..13], billable, title)
                }
            };
            let code = Code::parse(system, code_field).map_err(|e| {
                bad(format!(
                    "code {:?} is not valid: {e}",
                    String::from_utf8_lossy(code_field)
                ))
            })?;
            let mut entry = [0u8; ENTRY];
            entry[..7].copy_from_slice(&code.padded());
            entry[7] = u8::from(billable);
            entry[8..12].copy_from_slice(&((start + title.0) as u32).to_le_bytes());
            entry[12..16].copy_from_slice(&((title.1 - title.0) as u32).to_le_bytes());
            entries.push(entry);
        }
        start = end + 1;
    }
    // Stable, so that among repeats of a code the last line comes last and is kept.
    entries.sort_by(|a, b| a[..7].cmp(&b[..7]));
    let mut index: Vec<u8> = Vec::with_capacity(entries.len() * ENTRY);
    for (i, entry) in entries.iter().enumerate() {
        if entries
            .get(i + 1)
            .is_some_and(|next| next[..7] == entry[..7])
        {
            continue;
        }
        index.extend_from_slice(entry);
    }
    Ok(index)
}

fn trim_range(line: &[u8], mut from: usize, mut to: usize) -> (usize, usize) {
    while from < to && line[from].is_ascii_whitespace() {
        from += 1;
    }
    while to > from && line[to - 1].is_ascii_whitespace() {
        to -= 1;
    }
    (from, to)
}

/// Uncompressed bytes per block of packed titles: a look-up decompresses one block, so small
/// blocks make it cheap (about 2,000 instructions at 512 bytes). A title never straddles two
/// blocks; one longer than a block has a block of its own.
pub const BLOCK: usize = 512;

/// Bytes per entry of a block table: compressed offset, compressed length, uncompressed length
/// (`u32`, little-endian).
pub const BLOCK_ENTRY: usize = 12;

/// Bytes of the dictionary the title blocks of a set are compressed against: titles repeat
/// their words across a set ("fracture of", "initial encounter"), so small blocks compress
/// about as well as large ones do on their own.
pub const DICTIONARY: usize = 32 << 10;

/// Titles packed for a built-in code set: `index` (made by [`build`] from `text`) with its title
/// references rewritten to point into blocks of [`BLOCK`] bytes (block number × `BLOCK` + offset
/// in the block), the block table, and the packed titles: the dictionary's length (`u32`,
/// little-endian), the dictionary (titles taken evenly across the set), then the blocks, each
/// LZ4-compressed against it, one after another. Titles are stored in index order, so the
/// alternatives of a source code, which are neighbours in code order, mostly share a block.
pub fn pack_titles(index: &[u8], text: &[u8]) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let title = |entry: &[u8]| {
        let start = u32::from_le_bytes(entry[8..12].try_into().expect("4 bytes")) as usize;
        let len = u32::from_le_bytes(entry[12..16].try_into().expect("4 bytes")) as usize;
        &text[start..start + len]
    };
    let total: usize = index.chunks_exact(ENTRY).map(|e| title(e).len()).sum();
    let stride = total.div_ceil(DICTIONARY).max(1);
    let mut dictionary = Vec::with_capacity(DICTIONARY);
    for entry in index.chunks_exact(ENTRY).step_by(stride) {
        let title = title(entry);
        if dictionary.len() + title.len() > DICTIONARY {
            break;
        }
        dictionary.extend_from_slice(title);
    }
    let mut data = Vec::with_capacity(total / 2);
    data.extend_from_slice(&(dictionary.len() as u32).to_le_bytes());
    data.extend_from_slice(&dictionary);
    let mut packed_index = index.to_vec();
    let (mut table, mut block) = (Vec::new(), Vec::with_capacity(BLOCK));
    let mut flush = |block: &mut Vec<u8>, table: &mut Vec<u8>| {
        let compressed = lz4_flex::block::compress_with_dict(block, &dictionary);
        table.extend_from_slice(&(data.len() as u32).to_le_bytes());
        table.extend_from_slice(&(compressed.len() as u32).to_le_bytes());
        table.extend_from_slice(&(block.len() as u32).to_le_bytes());
        data.extend_from_slice(&compressed);
        block.clear();
    };
    for entry in packed_index.chunks_exact_mut(ENTRY) {
        let start = u32::from_le_bytes(entry[8..12].try_into().expect("4 bytes")) as usize;
        let len = u32::from_le_bytes(entry[12..16].try_into().expect("4 bytes")) as usize;
        if !block.is_empty() && block.len() + len > BLOCK {
            flush(&mut block, &mut table);
        }
        let at = table.len() / BLOCK_ENTRY * BLOCK + block.len();
        entry[8..12].copy_from_slice(&(at as u32).to_le_bytes());
        block.extend_from_slice(&text[start..start + len]);
    }
    if !block.is_empty() {
        flush(&mut block, &mut table);
    }
    (packed_index, table, data)
}
