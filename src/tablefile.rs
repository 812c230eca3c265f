//! Reading a mapping table or code set file whole, safely: only a regular file, and only up to a
//! size no real table comes near, so that `--gem /dev/zero` or a claim file given by mistake
//! fails at once with a message instead of reading until memory runs out.

use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};

/// The largest table file read: the largest official file (the ICD-10-CM order file with both
/// titles) is under 15 MiB.
pub const MAX_TABLE_BYTES: u64 = 64 << 20;

/// Read `path`, a `what` (`mapping table`, `code set`), whole.
pub fn read(path: &Path, what: &str) -> Result<Vec<u8>> {
    let io = |e| Error::io(Some(path.to_path_buf()), e);
    let file = std::fs::File::open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(Error::parse(
            path,
            1,
            format!("a {what} must be a regular file, not a device, pipe or directory"),
        ));
    }
    let too_big = || {
        Error::parse(
            path,
            1,
            format!(
                "{} bytes is more than a {what} file can be ({} MiB at most)",
                meta.len(),
                MAX_TABLE_BYTES >> 20
            ),
        )
    };
    if meta.len() > MAX_TABLE_BYTES {
        return Err(too_big());
    }
    let mut data = Vec::with_capacity(meta.len() as usize);
    // The bound holds even if the file grows while it is read.
    file.take(MAX_TABLE_BYTES + 1)
        .read_to_end(&mut data)
        .map_err(io)?;
    if data.len() as u64 > MAX_TABLE_BYTES {
        return Err(too_big());
    }
    Ok(data)
}

/// The first four-digit number starting with 1 or 2 that stands alone in a file or folder name.
pub fn year_in(name: &str) -> Option<String> {
    let b = name.as_bytes();
    (0..b.len().saturating_sub(3)).find_map(|i| {
        let w = &b[i..i + 4];
        let boundary = |j: Option<&u8>| j.is_none_or(|c| !c.is_ascii_digit());
        (w.iter().all(u8::is_ascii_digit)
            && (w[0] == b'1' || w[0] == b'2')
            && boundary(i.checked_sub(1).and_then(|j| b.get(j)))
            && boundary(b.get(i + 4)))
        .then(|| String::from_utf8_lossy(w).into_owned())
    })
}
