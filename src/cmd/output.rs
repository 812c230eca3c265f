//! Output files that appear only when complete: written to a temporary file in the same
//! directory and renamed over the destination on success. A failed run leaves no half-written
//! file behind (the temporary file is removed when dropped).

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;

pub enum AtomicOutput {
    // Not locked: the output may be written from another thread than the one that opened it.
    Stdout(io::Stdout),
    File {
        temp: tempfile::NamedTempFile,
        path: PathBuf,
    },
}

impl AtomicOutput {
    /// A temporary file beside `path`, or stdout when `path` is `None` or `-`.
    pub fn create(path: Option<&Path>) -> anyhow::Result<AtomicOutput> {
        let Some(path) = path.filter(|p| p.as_os_str() != "-") else {
            return Ok(AtomicOutput::Stdout(io::stdout()));
        };
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let temp = tempfile::Builder::new()
            .prefix(".crosswalk-")
            .suffix(".tmp")
            .tempfile_in(dir)
            .with_context(|| format!("cannot create a file in {}", dir.display()))?;
        Ok(AtomicOutput::File {
            temp,
            path: path.to_path_buf(),
        })
    }

    /// Flush and move the file into place.
    pub fn commit(self) -> anyhow::Result<()> {
        match self {
            AtomicOutput::Stdout(mut out) => Ok(out.flush()?),
            AtomicOutput::File { mut temp, path } => {
                temp.flush()?;
                #[cfg(unix)]
                {
                    // Temporary files are created private (0600); a result file is ordinary.
                    use std::os::unix::fs::PermissionsExt;
                    std::fs::set_permissions(temp.path(), std::fs::Permissions::from_mode(0o644))?;
                }
                temp.persist(&path)
                    .map_err(|e| e.error)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                Ok(())
            }
        }
    }
}

impl Write for AtomicOutput {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            AtomicOutput::Stdout(out) => out.write(buf),
            AtomicOutput::File { temp, .. } => temp.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            AtomicOutput::Stdout(out) => out.write_all(buf),
            AtomicOutput::File { temp, .. } => temp.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            AtomicOutput::Stdout(out) => out.flush(),
            AtomicOutput::File { temp, .. } => temp.flush(),
        }
    }
}
