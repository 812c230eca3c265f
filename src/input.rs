//! Opening a claim file so that nothing is lost silently: a regular file must end where it ended
//! when it was opened. A file truncated or rewritten while being read (a copy still in progress,
//! a log rotated under the run) is an error naming the file, not a run that "succeeds" with a
//! third of the rows.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// A file whose end is checked against its size at open.
pub struct CheckedFile {
    file: File,
    // The size at open when it is a regular file; pipes and devices have none to check.
    size: Option<u64>,
    read: u64,
}

impl CheckedFile {
    /// Open `path` for reading.
    pub fn open(path: &Path) -> io::Result<CheckedFile> {
        let file = File::open(path)?;
        let meta = file.metadata()?;
        Ok(CheckedFile {
            size: meta.is_file().then_some(meta.len()),
            file,
            read: 0,
        })
    }

    /// The size at open, for a regular file.
    pub fn size(&self) -> Option<u64> {
        self.size
    }

    fn changed(&self, now: Option<u64>) -> io::Error {
        let size = self.size.unwrap_or_default();
        let what = match now {
            Some(now) if now != size => format!("it is now {now} bytes"),
            _ => format!("it ended after {} bytes", self.read),
        };
        io::Error::other(format!(
            "the file had {size} bytes when it was opened, but {what}: it was truncated or \
             changed while being read"
        ))
    }
}

impl Read for CheckedFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read(buf)?;
        self.read += n as u64;
        if let Some(size) = self.size {
            if self.read > size {
                return Err(self.changed(self.file.metadata().ok().map(|m| m.len())));
            }
            if n == 0 && !buf.is_empty() {
                let now = self.file.metadata()?.len();
                if self.read != size || now != size {
                    return Err(self.changed(Some(now)));
                }
            }
        }
        Ok(n)
    }
}

/// True when `start` (a file's first bytes) is a zip archive, as an .xlsx workbook is.
pub fn is_zip(start: &[u8]) -> bool {
    start.starts_with(b"PK\x03\x04")
}
