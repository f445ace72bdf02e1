//! Errors and problems.
//!
//! `Error` is fatal and ends the run before or instead of a scan (bad
//! arguments, no readable input, an output that cannot be written).
//! `Problem` is everything that goes wrong with one input file or one message:
//! it is printed, counted in `summary.json`, and the scan goes on.

use std::fmt;
use std::path::PathBuf;

/// A fatal error: the run cannot produce its outputs.
#[derive(Debug)]
pub enum Error {
    /// The command line asks for something impossible.
    Usage(String),
    /// An input named on the command line does not exist or cannot be read.
    Input {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Every input was unreadable or empty: there is nothing to scan.
    NothingReadable,
    /// The output folder or one of its files cannot be written.
    Output {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(msg) => write!(f, "{msg}"),
            Error::Input { path, source } => {
                write!(f, "cannot read input '{}': {source}", path.display())
            }
            Error::NothingReadable => write!(
                f,
                "no input could be read as mail (see the warnings above); \
                 give an mbox file, a Maildir, a folder of .eml files or a .eml file"
            ),
            Error::Output { path, source } => write!(
                f,
                "cannot write output '{}': {source} (choose another folder with --out)",
                path.display()
            ),
        }
    }
}

impl std::error::Error for Error {}

/// Something wrong with one input file or one message; never fatal.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Problem {
    /// The input file, as shown in the outputs.
    pub file: String,
    /// Byte offset of the message (or of the damage) in the file, when known.
    pub offset: Option<u64>,
    /// What went wrong, in one line.
    pub what: String,
}

impl Problem {
    /// A problem with a whole file.
    pub fn file(file: &str, what: impl Into<String>) -> Problem {
        Problem {
            file: file.to_string(),
            offset: None,
            what: what.into(),
        }
    }

    /// A problem at a byte offset inside a file.
    pub fn at(file: &str, offset: u64, what: impl Into<String>) -> Problem {
        Problem {
            file: file.to_string(),
            offset: Some(offset),
            what: what.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.offset {
            Some(off) => write!(f, "{} (offset {off}): {}", self.file, self.what),
            None => write!(f, "{}: {}", self.file, self.what),
        }
    }
}
