//! The command line. Doc comments here are the `--help` text.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::Config;

const EXAMPLES: &str = "\
Examples:
  bouncetrail scan sample-data/tanaka.mbox
      one mailbox; writes bouncetrail-report/{timeline.csv,timeline.jsonl,campaigns.csv,mailboxes.csv,iocs.csv,summary.json}
  bouncetrail scan --batch sample-data
      the committed samples: five mailboxes, one verdict each
  bouncetrail scan --account tanaka@example.co.jp --excel Takeout/Mail/All\\ mail.mbox
      name the attacked address; CSV ready for Excel
  bouncetrail scan --batch --out triage exports/
      every folder or file under exports/ is one mailbox; mailboxes.csv lists the compromised ones first

Exit status: 0 all inputs read, 1 finished but some inputs had problems (see warnings), 2 fatal error.";

/// Offline forensics for MAILER-DAEMON floods.
///
/// Reads exported mailboxes (mbox, gzip mbox, Maildir/Maildir++, .eml files),
/// finds bounces, auto-replies and abuse reports, recovers the returned
/// original messages and writes a timeline, the campaigns, and a verdict per
/// mailbox: compromised (hijacked account), backscatter (forged sender),
/// inconclusive or clean. Inputs are opened read-only and hashed (SHA-256).
#[derive(Debug, Parser)]
#[command(name = "bouncetrail", version, after_help = EXAMPLES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan mailboxes and write the report.
    #[command(after_help = EXAMPLES)]
    Scan(ScanArgs),
    /// Decode only: every row as a JSON line on stdout, no report folder.
    ///
    /// The rows of timeline.jsonl, in input order (files as found, messages
    /// in file order), before campaigns are reconstructed (`campaign` is
    /// null) and without verdicts. Inputs are not hashed: `scan` is the
    /// command that records evidence.
    #[command(after_help = DECODE_EXAMPLES)]
    Decode(DecodeArgs),
}

const DECODE_EXAMPLES: &str = "\
Examples:
  bouncetrail decode sample-data/tanaka.mbox | jq -r .recipient
      every failed recipient of one mailbox
  bouncetrail decode -q exports/ > rows.jsonl
      every .eml, mbox and Maildir under exports/, one row per line

Exit status: 0 all inputs read, 1 finished but some inputs had problems (see warnings), 2 fatal error.";

/// Arguments of `bouncetrail decode`.
#[derive(Debug, clap::Args)]
pub struct DecodeArgs {
    /// Mailboxes: mbox files (also .gz), Maildir folders, folders of .eml files, .eml files.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,

    /// Treat every immediate child (file or folder) of each INPUT folder as its own mailbox
    /// (the `mailbox` field of the rows).
    #[arg(long)]
    pub batch: bool,

    /// Worker threads (default: one per core).
    #[arg(short = 'j', long = "threads", value_name = "N")]
    pub threads: Option<usize>,

    /// No progress bar; warnings still go to stderr.
    #[arg(short, long)]
    pub quiet: bool,
}

impl DecodeArgs {
    /// Turns the parsed arguments into a `Config` (no output folder, no hashing).
    pub fn into_config(self, arguments: Vec<String>) -> Result<Config, String> {
        if self.threads == Some(0) {
            return Err("--threads must be at least 1".into());
        }
        Ok(Config {
            batch: self.batch,
            threads: self.threads,
            hash: false,
            quiet: self.quiet,
            arguments,
            ..Config::new(self.inputs, PathBuf::new())
        })
    }
}

/// Arguments of `bouncetrail scan`.
#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// Mailboxes: mbox files (also .gz), Maildir folders, folders of .eml files, .eml files.
    /// Without --batch each INPUT is one mailbox.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,

    /// Folder for the report (created; files are written complete or not at all).
    #[arg(short, long, value_name = "DIR", default_value = "bouncetrail-report")]
    pub out: PathBuf,

    /// Treat every immediate child (file or folder) of each INPUT folder as its own mailbox.
    #[arg(long)]
    pub batch: bool,

    /// The address under attack (repeatable). Without it the owner of each mailbox is inferred.
    #[arg(long = "account", value_name = "ADDR")]
    pub accounts: Vec<String>,

    /// Worker threads (default: one per core).
    #[arg(short = 'j', long = "threads", value_name = "N")]
    pub threads: Option<usize>,

    /// Write CSV for Excel: UTF-8 byte-order mark and CRLF line ends.
    #[arg(long)]
    pub excel: bool,

    /// Do not compute the SHA-256 of the inputs (faster; the summary then has no hashes).
    #[arg(long)]
    pub no_hash: bool,

    /// No progress bar and no summary on stdout; warnings still go to stderr.
    #[arg(short, long)]
    pub quiet: bool,
}

impl ScanArgs {
    /// Turns the parsed arguments into a `Config`, checking what clap cannot.
    pub fn into_config(self, arguments: Vec<String>) -> Result<Config, String> {
        if self.threads == Some(0) {
            return Err("--threads must be at least 1".into());
        }
        let mut accounts = Vec::new();
        for a in &self.accounts {
            let a = a
                .trim()
                .trim_matches(|c| c == '<' || c == '>')
                .to_ascii_lowercase();
            if !a.contains('@') || a.starts_with('@') || a.ends_with('@') {
                return Err(format!(
                    "--account '{a}' is not a mail address (want user@domain)"
                ));
            }
            accounts.push(a);
        }
        Ok(Config {
            inputs: self.inputs,
            out: self.out,
            batch: self.batch,
            accounts,
            threads: self.threads,
            excel: self.excel,
            hash: !self.no_hash,
            quiet: self.quiet,
            arguments,
        })
    }
}
