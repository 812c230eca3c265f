//! The library's error type: every error that comes from a file names the file and, where there
//! is one, the line.

use std::fmt;
use std::path::PathBuf;

use crate::code::System;

/// A specialised `Result` for the crosswalk library.
pub type Result<T> = std::result::Result<T, Error>;

/// An error of the crosswalk library. Boxed so that `Result`s stay one word wide.
#[derive(Debug)]
pub struct Error(Box<ErrorKind>);

/// What went wrong.
#[derive(Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Reading or writing a file failed.
    Io {
        /// The file, when the error is about one.
        path: Option<PathBuf>,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A line of a mapping table or code set could not be read.
    Parse {
        /// The file (or the name of a built-in table).
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// What is wrong with the line.
        message: String,
    },
    /// No table for a direction was loaded.
    NoTable {
        /// The source system of the missing direction.
        system: System,
    },
    /// A directory or file set given by the user cannot be used as a crosswalk.
    Config {
        /// What is wrong.
        message: String,
    },
}

impl Error {
    /// The kind of this error.
    pub fn kind(&self) -> &ErrorKind {
        &self.0
    }

    /// The kind of the underlying I/O error, for an I/O error.
    pub fn io_kind(&self) -> Option<std::io::ErrorKind> {
        match &*self.0 {
            ErrorKind::Io { source, .. } => Some(source.kind()),
            _ => None,
        }
    }

    /// Unwrap into the kind.
    pub fn into_kind(self) -> ErrorKind {
        *self.0
    }

    pub(crate) fn io(path: Option<PathBuf>, source: std::io::Error) -> Error {
        Error(Box::new(ErrorKind::Io { path, source }))
    }

    pub(crate) fn parse(path: impl Into<PathBuf>, line: u64, message: impl Into<String>) -> Error {
        Error(Box::new(ErrorKind::Parse {
            path: path.into(),
            line,
            message: message.into(),
        }))
    }

    pub(crate) fn config(message: impl Into<String>) -> Error {
        Error(Box::new(ErrorKind::Config {
            message: message.into(),
        }))
    }

    pub(crate) fn no_table(system: System) -> Error {
        Error(Box::new(ErrorKind::NoTable { system }))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.0 {
            ErrorKind::Io {
                path: Some(path),
                source,
            } => write!(f, "{}: {source}", path.display()),
            ErrorKind::Io { path: None, source } => write!(f, "{source}"),
            ErrorKind::Parse {
                path,
                line,
                message,
            } => write!(f, "{}:{line}: {message}", path.display()),
            ErrorKind::NoTable { system } => write!(
                f,
                "no {} → {} mapping table is loaded (the built-in crosswalk has none for this \
                 direction; load one with --gems DIR or --gem {}=FILE)",
                system.label(),
                system.gem_target().label(),
                system.name()
            ),
            ErrorKind::Config { message } => f.write_str(message),
        }
    }
}

impl std::error::Error for Error {
    // The I/O error is part of the message already (`path: error`); giving it as the source
    // too would print it twice in a chain. [`Error::io_kind`] tells callers what it was.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        None
    }
}
