//! The run's settings, free of clap types, so the library can be driven by
//! tests and benchmarks without a command line.

use std::path::PathBuf;

/// Everything `run` needs to know.
#[derive(Debug, Clone)]
pub struct Config {
    /// Inputs as given: files or folders.
    pub inputs: Vec<PathBuf>,
    /// Output folder.
    pub out: PathBuf,
    /// Every immediate child of each input folder is its own mailbox.
    pub batch: bool,
    /// Addresses under attack (lowercase); empty means infer per mailbox.
    pub accounts: Vec<String>,
    /// Worker threads; `None` means one per core.
    pub threads: Option<usize>,
    /// UTF-8 BOM and CRLF line ends in CSV files.
    pub excel: bool,
    /// Skip the SHA-256 of the inputs.
    pub hash: bool,
    /// No progress bar and no summary on stdout.
    pub quiet: bool,
    /// The command line as given, recorded in summary.json.
    pub arguments: Vec<String>,
}

impl Config {
    /// Settings with defaults for the given inputs (used by tests and benches).
    pub fn new(inputs: Vec<PathBuf>, out: PathBuf) -> Config {
        Config {
            inputs,
            out,
            batch: false,
            accounts: Vec::new(),
            threads: None,
            excel: false,
            hash: true,
            quiet: true,
            arguments: Vec::new(),
        }
    }
}
