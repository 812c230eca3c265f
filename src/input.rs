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

/// How a file's bytes are compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// Not compressed.
    None,
    /// gzip (one member or several, as `pigz` and `bgzip` write).
    Gzip,
    /// zstd (one frame or several).
    Zstd,
}

impl Compression {
    /// What the first bytes of a stream say it is.
    pub fn sniff(start: &[u8]) -> Compression {
        if start.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if start.starts_with(&[0x28, 0xb5, 0x2f, 0xfd])
            // A skippable frame first, as pzstd writes.
            || (start.len() >= 4 && start[0] & 0xf0 == 0x50 && start[1..4] == [0x2a, 0x4d, 0x18])
        {
            Compression::Zstd
        } else {
            Compression::None
        }
    }

    /// What an output named `path` is written as: by its last extension, `.gz` or `.zst`.
    pub fn of_name(path: &Path) -> Compression {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("gz") => Compression::Gzip,
            Some(e) if e.eq_ignore_ascii_case("zst") => Compression::Zstd,
            _ => Compression::None,
        }
    }
}

/// `input`, decompressed when its first bytes say it is gzip or zstd (whatever its name), with
/// what it was. Nothing is read beyond those first bytes until the caller reads.
pub fn decompressed<'a, R: Read + Send + 'a>(
    input: R,
) -> io::Result<(Box<dyn Read + Send + 'a>, Compression)> {
    use std::io::BufRead;
    let mut buffered = io::BufReader::with_capacity(1 << 16, input);
    let start = loop {
        match buffered.fill_buf() {
            Ok(start) => break start,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    };
    if start.len() >= 6 || start.is_empty() {
        refuse(start)?;
        let compression = Compression::sniff(start);
        return wrap(Box::new(buffered), compression);
    }
    // A short first read (a pipe): the magic number is completed from the next.
    let mut first = Vec::with_capacity(6);
    buffered.by_ref().take(6).read_to_end(&mut first)?;
    refuse(&first)?;
    let compression = Compression::sniff(&first);
    wrap(
        Box::new(io::Cursor::new(first).chain(buffered)),
        compression,
    )
}

/// The compressed formats that are not read, by their first bytes: a clear error beats a
/// header of binary.
const UNREAD: [(&[u8], &str, &str); 4] = [
    (b"\xfd7zXZ\x00", "xz", "xz -d"),
    (b"BZh", "bzip2", "bunzip2"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip", "7z x"),
    (b"\x04\x22\x4d\x18", "LZ4", "lz4 -d"),
];

fn refuse(start: &[u8]) -> io::Result<()> {
    if start.starts_with(b"PAR1") {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "this is a Parquet file, which is read from its end: name the file instead of \
             piping it",
        ));
    }
    for (magic, format, command) in UNREAD {
        if start.starts_with(magic) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "this is {format}-compressed data; crosswalk reads gzip and zstd (decompress \
                     it first: {command})"
                ),
            ));
        }
    }
    Ok(())
}

fn wrap<'a>(
    input: Box<dyn Read + Send + 'a>,
    compression: Compression,
) -> io::Result<(Box<dyn Read + Send + 'a>, Compression)> {
    let failed = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watched = Watched {
        inner: input,
        failed: std::sync::Arc::clone(&failed),
    };
    let decoded: Box<dyn Read + Send + 'a> = match compression {
        Compression::None => return Ok((watched.inner, compression)),
        Compression::Gzip => Box::new(Decoded {
            inner: flate2::read::MultiGzDecoder::new(watched),
            format: "gzip",
            failed,
        }),
        Compression::Zstd => Box::new(Decoded {
            inner: zstd::stream::read::Decoder::new(watched)?,
            format: "zstd",
            failed,
        }),
    };
    Ok((decoded, compression))
}

/// The compressed bytes, noting when reading them failed (so that the error is not taken for
/// the decompressor's).
struct Watched<'a> {
    inner: Box<dyn Read + Send + 'a>,
    failed: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Read for Watched<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).inspect_err(|e| {
            if e.kind() != io::ErrorKind::Interrupted {
                self.failed
                    .store(true, std::sync::atomic::Ordering::Relaxed);
            }
        })
    }
}

/// A decompressor whose own errors say that the compressed data is at fault.
struct Decoded<R> {
    inner: R,
    format: &'static str,
    failed: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl<R: Read> Read for Decoded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).map_err(|e| {
            let from_file = self.failed.load(std::sync::atomic::Ordering::Relaxed);
            if from_file || e.kind() == io::ErrorKind::Interrupted {
                return e;
            }
            io::Error::new(
                e.kind(),
                format!("the {} data is damaged or cut off ({e})", self.format),
            )
        })
    }
}

/// Counts the bytes read through it (from another thread too), for a progress bar over a file
/// read through a decompressor.
pub struct Counted<R> {
    inner: R,
    count: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl<R> Counted<R> {
    /// `inner`, counting into `count`.
    pub fn new(inner: R, count: std::sync::Arc<std::sync::atomic::AtomicU64>) -> Counted<R> {
        Counted { inner, count }
    }
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}
