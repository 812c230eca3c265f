//! The outputs of a run as one transaction: every file is staged beside its target and renamed
//! into place only once all of them are complete, so an error, a full disk or a signal leaves no
//! output and no half-written file. (The renames themselves run one after another; targets are
//! checked beforehand so that they cannot fail for a bad name.)
//!
//! Claim data is PHI, so the rules are strict:
//! - a staged file is created with the mode the umask allows (a file it replaces keeps its own
//!   mode), and removed on any error, when dropped, and on SIGINT, SIGTERM or SIGHUP
//!   ([`install_signal_cleanup`]);
//! - outputs that are the same file by any spelling (hard links, symbolic links, a name that does
//!   not exist yet in the same directory), or the same file as an input, are refused before
//!   anything is opened ([`check_targets`]); at most one output is standard output;
//! - a FIFO, character device or terminal (`/dev/null`, `/dev/stdout`, a named pipe) is written
//!   through, never replaced by a regular file.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Staged files not yet committed or removed, for the signal handler to remove.
static STAGED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn staged() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    STAGED.lock().unwrap_or_else(|e| e.into_inner())
}

/// Remove every staged file now (the signal handler's work). Returns how many were removed.
pub fn remove_staged() -> usize {
    let mut files = staged();
    let n = files.len();
    for path in files.drain(..) {
        let _ = std::fs::remove_file(path);
    }
    n
}

/// Catch SIGINT, SIGTERM and SIGHUP: remove every staged file, then exit with 128 + the signal
/// number, as the shell reports a process killed by it. Call once, before staging anything.
pub fn install_signal_cleanup() -> io::Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                remove_staged();
                std::process::exit(128 + signal);
            }
        })?;
    Ok(())
}

/// Where an output goes.
#[derive(Debug)]
enum Kind {
    Stdout,
    /// An existing file that is not a regular file: written in place.
    Through(PathBuf),
    /// A regular file (or a new one) at this path: staged beside it, renamed at commit. A
    /// symbolic link to a regular file stages beside, and replaces, the file it points to.
    Staged(PathBuf),
}

fn is_stdout(path: Option<&Path>) -> bool {
    path.is_none_or(|p| p.as_os_str() == "-")
}

fn kind(path: Option<&Path>) -> Kind {
    let Some(path) = path.filter(|p| !is_stdout(Some(p))) else {
        return Kind::Stdout;
    };
    // Followed through links: `/dev/stdout` is a link to whatever standard output is.
    match std::fs::metadata(path) {
        Ok(meta) if !meta.is_file() => Kind::Through(path.to_path_buf()),
        Ok(_) if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) => {
            Kind::Staged(std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()))
        }
        _ => Kind::Staged(path.to_path_buf()),
    }
}

/// What names a file for comparisons: its device and inode when it exists, and its canonical
/// directory joined with its name, which also names a file that does not exist yet.
#[derive(Debug, PartialEq, Eq)]
struct Identity {
    inode: Option<(u64, u64)>,
    location: Option<PathBuf>,
}

fn identity(path: &Path) -> Identity {
    #[cfg(unix)]
    let inode = {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
    };
    #[cfg(not(unix))]
    let inode = None;
    let location = std::fs::canonicalize(path).ok().or_else(|| {
        let name = path.file_name()?;
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        Some(std::fs::canonicalize(dir).ok()?.join(name))
    });
    Identity { inode, location }
}

fn same(a: &Identity, b: &Identity) -> bool {
    (a.inode.is_some() && a.inode == b.inode) || (a.location.is_some() && a.location == b.location)
}

/// True for `/dev/null`, which any number of outputs may share.
fn is_null(path: &Path) -> bool {
    std::fs::canonicalize(path).is_ok_and(|p| p == Path::new("/dev/null"))
}

/// Check a run's targets before anything is opened: `outputs` are (option, path; `None` or `-`
/// for standard output), `inputs` (what, path) the files the run reads. The error says which
/// options clash, in words for a usage message.
pub fn check_targets(
    outputs: &[(&str, Option<&Path>)],
    inputs: &[(&str, &Path)],
) -> Result<(), String> {
    let on_stdout: Vec<&str> = outputs
        .iter()
        .filter(|(_, p)| is_stdout(*p))
        .map(|(o, _)| *o)
        .collect();
    if on_stdout.len() > 1 {
        return Err(format!(
            "{} would {} write to standard output; give all but one of them a file",
            on_stdout.join(" and "),
            if on_stdout.len() == 2 { "both" } else { "all" }
        ));
    }
    for (option, path) in outputs {
        if let Some(path) = path.filter(|p| !is_stdout(Some(p)))
            && (path.is_dir() || path.as_os_str().to_string_lossy().ends_with('/'))
        {
            return Err(format!(
                "{option} {} is a directory; name a file in it",
                path.display()
            ));
        }
    }
    // Standard output is compared by what it is (`-o /dev/stdout` beside `--audit -` is two
    // outputs on it); /dev/null may be shared by any number.
    let stdout = Path::new("/dev/stdout");
    let files: Vec<(&str, String, Identity)> = outputs
        .iter()
        .map(|(o, p)| match p.filter(|p| !is_stdout(Some(p))) {
            Some(p) => (*o, p, p.display().to_string()),
            None => (*o, stdout, "- (standard output)".to_string()),
        })
        .filter(|(_, p, _)| !is_null(p))
        .map(|(o, p, shown)| (o, shown, identity(p)))
        .collect();
    for (i, (a, pa, ia)) in files.iter().enumerate() {
        for (b, pb, ib) in &files[i + 1..] {
            if same(ia, ib) {
                return Err(format!(
                    "{a} {pa} and {b} {pb} are the same file; give each output its own"
                ));
            }
        }
        for (what, input) in inputs {
            if input.as_os_str() != "-" && same(ia, &identity(input)) {
                return Err(format!(
                    "{a} {pa} is {what}; write the result somewhere else"
                ));
            }
        }
    }
    Ok(())
}

/// One output of a run: standard output, a special file written through, or a staged file;
/// compressed with gzip or zstd when its name ends in `.gz` or `.zst`.
pub struct Output {
    layer: Layer,
}

/// What the bytes written go through on their way to the file.
enum Layer {
    Plain(Raw),
    Gzip(flate2::write::GzEncoder<Raw>),
    Zstd(zstd::stream::write::Encoder<'static, Raw>),
}

/// The file an [`Output`] writes, as it is opened.
struct Raw {
    target: Target,
}

enum Target {
    // Not locked: an output may be written from another thread than the one that opened it.
    Stdout(io::Stdout),
    Through(File, PathBuf),
    Staged {
        file: File,
        temp: PathBuf,
        path: PathBuf,
    },
}

static SEQUENCE: AtomicU64 = AtomicU64::new(0);

impl Output {
    /// Open the output `path` (`None` or `-`: standard output). A regular or new file is staged
    /// as `.NAME.crosswalk-PID-N.tmp` beside it. A name ending in `.gz` is written as gzip
    /// (level 6, as `gzip` does), one ending in `.zst` as zstd (level 3, as `zstd` does).
    pub fn create(path: Option<&Path>) -> io::Result<Output> {
        let raw = Raw::create(path)?;
        let layer = match path.map(crate::input::Compression::of_name) {
            Some(crate::input::Compression::Gzip) => Layer::Gzip(flate2::write::GzEncoder::new(
                raw,
                flate2::Compression::default(),
            )),
            Some(crate::input::Compression::Zstd) => {
                let path = raw.path().to_path_buf();
                Layer::Zstd(
                    zstd::stream::write::Encoder::new(raw, zstd::DEFAULT_COMPRESSION_LEVEL)
                        .map_err(|e| with_path(e, &path))?,
                )
            }
            _ => Layer::Plain(raw),
        };
        Ok(Output { layer })
    }

    /// Flush everything written: the output is complete (its compressed stream ended). A
    /// staged file is synced to disk, ready to be renamed by [`commit`].
    pub fn finish(self) -> io::Result<Ready> {
        let raw = match self.layer {
            Layer::Plain(raw) => raw,
            Layer::Gzip(gzip) => gzip.finish()?,
            Layer::Zstd(zstd) => zstd.finish()?,
        };
        raw.finish()
    }

    fn writer(&mut self) -> &mut dyn Write {
        match &mut self.layer {
            Layer::Plain(raw) => raw,
            Layer::Gzip(gzip) => gzip,
            Layer::Zstd(zstd) => zstd,
        }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer().write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.writer().write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.writer().flush()
    }
}

impl Raw {
    fn create(path: Option<&Path>) -> io::Result<Raw> {
        let target = match kind(path) {
            Kind::Stdout => Target::Stdout(io::stdout()),
            Kind::Through(path) => Target::Through(
                OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .map_err(|e| with_path(e, &path))?,
                path,
            ),
            Kind::Staged(path) => {
                let path = path.as_path();
                let dir = match path.parent() {
                    Some(d) if !d.as_os_str().is_empty() => d,
                    _ => Path::new("."),
                };
                let name = path
                    .file_name()
                    .map_or_else(|| "output".into(), |n| n.to_string_lossy().into_owned());
                let temp = dir.join(format!(
                    ".{name}.crosswalk-{}-{}.tmp",
                    std::process::id(),
                    SEQUENCE.fetch_add(1, Ordering::Relaxed)
                ));
                let mut options = OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                {
                    // The kernel applies the umask to this mode, as for any new file.
                    use std::os::unix::fs::OpenOptionsExt;
                    options.mode(0o666);
                }
                // Registered before it exists, so that a signal between the two removes it too.
                staged().push(temp.clone());
                let file = options.open(&temp).map_err(|e| {
                    unregister(&temp);
                    io::Error::new(
                        e.kind(),
                        format!("cannot create a file in {}: {e}", dir.display()),
                    )
                })?;
                Target::Staged {
                    file,
                    temp,
                    path: path.to_path_buf(),
                }
            }
        };
        Ok(Raw { target })
    }

    fn finish(mut self) -> io::Result<Ready> {
        self.flush()?;
        let target = std::mem::replace(&mut self.target, Target::Stdout(io::stdout()));
        match target {
            Target::Stdout(_) | Target::Through(..) => Ok(Ready { staged: None }),
            Target::Staged { file, temp, path } => {
                // Built first, so that an error below still removes the staged file.
                let ready = Ready {
                    staged: Some((temp, path)),
                };
                let (temp, path) = ready.staged.as_ref().expect("just set");
                file.sync_all()?;
                if let Ok(meta) = std::fs::metadata(path)
                    && meta.is_file()
                {
                    // A replaced file keeps its mode.
                    std::fs::set_permissions(temp, meta.permissions())?;
                }
                Ok(ready)
            }
        }
    }
}

fn with_path(e: io::Error, path: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

fn unregister(temp: &Path) {
    staged().retain(|p| p != temp);
}

impl Drop for Raw {
    fn drop(&mut self) {
        if let Target::Staged { temp, .. } = &self.target {
            let _ = std::fs::remove_file(temp);
            unregister(temp);
        }
    }
}

impl Raw {
    /// The error of a write, naming the file (a full disk must say which output it hit).
    fn failed(&self, e: io::Error) -> io::Error {
        match &self.target {
            Target::Stdout(_) => e,
            Target::Through(..) | Target::Staged { .. } => with_path(e, self.path()),
        }
    }

    fn path(&self) -> &Path {
        match &self.target {
            Target::Stdout(_) => Path::new("-"),
            Target::Through(_, path) => path,
            Target::Staged { path, .. } => path,
        }
    }
}

impl Write for Raw {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = match &mut self.target {
            Target::Stdout(out) => out.write(buf),
            Target::Through(file, _) | Target::Staged { file, .. } => file.write(buf),
        };
        written.map_err(|e| self.failed(e))
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        let written = match &mut self.target {
            Target::Stdout(out) => out.write_all(buf),
            Target::Through(file, _) | Target::Staged { file, .. } => file.write_all(buf),
        };
        written.map_err(|e| self.failed(e))
    }

    fn flush(&mut self) -> io::Result<()> {
        let flushed = match &mut self.target {
            Target::Stdout(out) => out.flush(),
            Target::Through(file, _) | Target::Staged { file, .. } => file.flush(),
        };
        flushed.map_err(|e| self.failed(e))
    }
}

/// A complete output waiting for [`commit`]; dropped uncommitted, its staged file is removed.
pub struct Ready {
    staged: Option<(PathBuf, PathBuf)>,
}

impl Drop for Ready {
    fn drop(&mut self) {
        if let Some((temp, _)) = &self.staged {
            let _ = std::fs::remove_file(temp);
            unregister(temp);
        }
    }
}

/// Move every complete output into place. Called only once all outputs of a run are complete.
///
/// The directories of the targets are locked (`flock`, in path order) while the files are
/// renamed, so that two runs writing the same files commit one after the other and never leave
/// one run's claims beside another's audit.
pub fn commit(ready: Vec<Ready>) -> io::Result<()> {
    let mut dirs: Vec<PathBuf> = ready
        .iter()
        .filter_map(|r| r.staged.as_ref())
        .map(|(temp, _)| {
            let parent = temp.parent().filter(|p| !p.as_os_str().is_empty());
            let dir = parent.unwrap_or(Path::new("."));
            std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf())
        })
        .collect();
    dirs.sort();
    dirs.dedup();
    let mut locks = Vec::with_capacity(dirs.len());
    for dir in &dirs {
        let handle = std::fs::File::open(dir).map_err(|e| with_path(e, dir))?;
        handle.lock().map_err(|e| with_path(e, dir))?;
        locks.push(handle);
    }
    for mut r in ready {
        if let Some((temp, path)) = r.staged.take() {
            let renamed = std::fs::rename(&temp, &path);
            if renamed.is_err() {
                let _ = std::fs::remove_file(&temp);
            }
            // After the rename: a signal in between finds no file at the staged name.
            unregister(&temp);
            renamed.map_err(|e| with_path(e, &path))?;
        }
    }
    // Closing the directories releases the locks.
    drop(locks);
    Ok(())
}
