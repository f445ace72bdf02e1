//! bouncetrail: offline forensics for MAILER-DAEMON floods.
//!
//! The pipeline, one stage per module, in order:
//! `discover` (inputs → sources) → `mailbox` (bytes → messages) → `triage`
//! (cheap header look) → `parse` (MIME) → `bounce` (decoders) → `record`
//! (flat rows) → `campaign`/`verdict` (aggregate) → `output` (writers).
//! `scan` drives stages 2–5 for one file; `run` below is the whole pipeline.

// Around the pipeline: settings, errors, what the user sees.
pub mod cli;
pub mod config;
pub mod error;
pub mod report;

// 1. inputs → mailboxes and their files
pub mod discover;
// 2. a file → messages (mbox, gzip, single message)
pub mod mailbox;
pub mod message;
// 3. a cheap look at the header block
pub mod triage;
// 4. MIME parse of bounce-like messages
pub mod parse;
// 5. bounce decoders, and what they read: dates, the returned original
pub mod bounce;
pub mod date;
pub mod original;
// stages 2–5 for one file
pub mod scan;
// 6. rows, forensic evidence, campaigns, verdicts, indicators
pub mod campaign;
pub mod evidence;
pub mod iocs;
pub mod record;
pub mod verdict;
// 7. writers
pub mod output;

// Synthetic mail for tests, sample data and benchmarks.
pub mod synth;

use std::collections::HashSet;

use rayon::prelude::*;
use serde::Serialize;

pub use config::Config;
pub use error::{Error, Problem};
use record::Record;

/// One input file in summary.json.
#[derive(Debug, Clone, Serialize)]
pub struct InputFile {
    pub path: String,
    pub mailbox: String,
    pub format: &'static str,
    pub size: u64,
    pub sha256: Option<String>,
    pub messages: u64,
    pub errors: usize,
}

/// One row of mailboxes.csv.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct MailboxRow {
    pub mailbox: String,
    pub account: Option<String>,
    pub messages: u64,
    pub bounces: u64,
    pub autoreplies: u64,
    pub campaigns: usize,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    pub verdict: &'static str,
    pub evidence: String,
    /// How the account was found (`--account`, `delivered-to`, `sent-from`,
    /// `to`, `bounced-sender`).
    pub account_source: String,
    /// Rows in campaigns, and their distinct recipients and domains.
    pub campaign_bounces: usize,
    pub recipients: usize,
    pub recipient_domains: usize,
    /// Estimated messages sent (see `scale_assumption` in summary.json).
    pub estimated_sent_min: u64,
    pub estimated_sent_max: u64,
    pub feedback_reports: u64,
    pub rows: usize,
    pub files: usize,
    pub problems: usize,
}

/// Totals over the run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Totals {
    pub files: usize,
    pub bytes: u64,
    pub messages: u64,
    pub parsed: u64,
    pub bounces: u64,
    pub autoreplies: u64,
    pub feedback: u64,
    pub rows: usize,
    pub campaigns: usize,
    pub problems: usize,
}

/// What a run produced (summary.json).
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub tool: &'static str,
    pub version: &'static str,
    pub arguments: Vec<String>,
    pub out_dir: String,
    pub inputs: Vec<InputFile>,
    pub mailboxes: Vec<MailboxRow>,
    pub campaigns: Vec<campaign::CampaignRow>,
    /// The campaign rule and its thresholds, in words.
    pub campaign_rule: String,
    /// How `estimated_sent_min/max` are computed.
    pub scale_assumption: &'static str,
    /// What to do now, when a mailbox is compromised (empty otherwise).
    pub next_steps: Vec<&'static str>,
    pub totals: Totals,
    pub problems: Vec<Problem>,
}

impl Summary {
    /// Problems with inputs (exit status 1 when nonzero).
    pub fn problem_count(&self) -> usize {
        self.problems.len()
    }
}

/// Runs the whole pipeline: discover → scan (split, triage, parse, decode)
/// → aggregate (campaigns, verdicts) → write.
pub fn run(config: &Config) -> Result<Summary, Error> {
    output::prepare(&config.out)?;
    let found = discover::discover(&config.inputs, config.batch)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(config.threads.unwrap_or(0))
        .build()
        .map_err(|e| Error::Usage(format!("cannot start the worker threads: {e}")))?;
    pool.install(|| {
        let results = scan_all(&found, config);
        let problems = collect_problems(&found, &results);
        if !results
            .iter()
            .any(|r| matches!(r.format, "mbox" | "mbox.gz" | "message"))
        {
            return Err(Error::NothingReadable);
        }
        let report = aggregate(&found, results, problems, config);
        write_report(&report, config)?;
        Ok(report.into_summary())
    })
}

/// Stages 2–5 on every file, in parallel; results in discovery order.
fn scan_all(found: &discover::Discovery, config: &Config) -> Vec<scan::SourceResult> {
    let total: u64 = found.sources.iter().map(|s| s.len).sum();
    let progress = report::Progress::new(total, config.quiet);
    let results = found
        .sources
        .par_iter()
        .enumerate()
        .map(|(i, s)| scan::scan_source(s, i, &found.mailboxes[s.mailbox].name, config, &progress))
        .collect();
    progress.finish();
    results
}

/// Every problem of discovery and scan, in input order, printed as warnings.
fn collect_problems(found: &discover::Discovery, results: &[scan::SourceResult]) -> Vec<Problem> {
    let mut problems = found.problems.clone();
    for r in results {
        problems.extend(r.problems.iter().cloned());
    }
    for p in &problems {
        report::warn(p);
    }
    problems
}

/// What the writers write.
struct Report {
    records: Vec<Record>,
    campaigns: Vec<campaign::CampaignRow>,
    summary: Summary,
}

impl Report {
    /// The summary, the rest freed: the rows hold some 25 strings each, and
    /// a quarter of a million frees take a few milliseconds, so they are
    /// shared out over the threads.
    fn into_summary(self) -> Summary {
        self.records.into_par_iter().for_each(drop);
        self.summary
    }
}

/// Stage 6: rows → campaigns and a verdict per mailbox (mailboxes in
/// parallel), the timeline in time order.
fn aggregate(
    found: &discover::Discovery,
    results: Vec<scan::SourceResult>,
    problems: Vec<Problem>,
    config: &Config,
) -> Report {
    let inputs: Vec<InputFile> = found
        .sources
        .iter()
        .zip(&results)
        .map(|(s, r)| InputFile {
            path: s.display.clone(),
            mailbox: found.mailboxes[s.mailbox].name.clone(),
            format: r.format,
            size: r.size,
            sha256: r.sha256.clone(),
            messages: r.counts.messages,
            errors: r.problems.len(),
        })
        .collect();
    let parsed = results.iter().map(|r| r.counts.parsed).sum();
    // Discovery lists each mailbox's files together and in mailbox order.
    let mut groups: Vec<Vec<scan::SourceResult>> =
        (0..found.mailboxes.len()).map(|_| Vec::new()).collect();
    for (s, r) in found.sources.iter().zip(results) {
        groups[s.mailbox].push(r);
    }
    let assessed: Vec<(MailboxRow, Vec<campaign::CampaignRow>, Vec<Record>)> = groups
        .into_par_iter()
        .enumerate()
        .map(|(m, files)| assess_mailbox(m, &found.mailboxes[m].name, files, config))
        .collect();
    let mut mailboxes = Vec::with_capacity(assessed.len());
    let mut campaigns = Vec::new();
    let mut runs = Vec::with_capacity(assessed.len());
    for (row, camps, rows) in assessed {
        mailboxes.push(row);
        campaigns.extend(camps);
        runs.push(rows);
    }
    // Each mailbox's rows are sorted: their concatenation is sorted runs,
    // which `record::sort` merges (one mailbox: nothing to do).
    let mut records = concat(runs);
    record::sort(&mut records);
    // Compromised first, then backscatter, inconclusive, clean; stable by name.
    let rank = |v: &str| {
        verdict::Verdict::ALL
            .iter()
            .position(|x| x.as_str() == v)
            .unwrap_or(9)
    };
    mailboxes.sort_by_key(|r| rank(r.verdict));
    let totals = Totals {
        files: inputs.len(),
        bytes: inputs.iter().map(|i| i.size).sum(),
        messages: inputs.iter().map(|i| i.messages).sum(),
        parsed,
        bounces: mailboxes.iter().map(|m| m.bounces).sum(),
        autoreplies: mailboxes.iter().map(|m| m.autoreplies).sum(),
        feedback: mailboxes.iter().map(|m| m.feedback_reports).sum(),
        rows: records.len(),
        campaigns: campaigns.len(),
        problems: problems.len(),
    };
    let next_steps = if mailboxes.iter().any(|m| m.verdict == "compromised") {
        report::NEXT_STEPS.to_vec()
    } else {
        Vec::new()
    };
    let summary = Summary {
        tool: env!("CARGO_PKG_NAME"),
        version: env!("CARGO_PKG_VERSION"),
        arguments: config.arguments.clone(),
        out_dir: config.out.display().to_string(),
        inputs,
        mailboxes,
        campaigns: campaigns.clone(),
        campaign_rule: campaign::rule(),
        scale_assumption: campaign::SCALE_ASSUMPTION,
        next_steps,
        totals,
        problems,
    };
    Report {
        records,
        campaigns,
        summary,
    }
}

/// One mailbox: its rows in time order, the account, campaigns and verdict.
fn assess_mailbox(
    m: usize,
    name: &str,
    files: Vec<scan::SourceResult>,
    config: &Config,
) -> (MailboxRow, Vec<campaign::CampaignRow>, Vec<Record>) {
    let mut runs = Vec::with_capacity(files.len());
    let mut tally = scan::Tally::default();
    let mut sent_ids = HashSet::new();
    let mut row = MailboxRow {
        mailbox: name.to_string(),
        files: files.len(),
        ..Default::default()
    };
    for r in files {
        row.messages += r.counts.messages;
        row.bounces += r.counts.bounces;
        row.autoreplies += r.counts.autoreplies;
        row.feedback_reports += r.counts.feedback;
        row.problems += r.problems.len();
        runs.push(r.records);
        merge_tally(&mut tally, r.tally);
        sent_ids.extend(r.sent_ids);
    }
    let mut rows = concat(runs);
    record::sort(&mut rows);
    let found = verdict::assess(m, name, &config.accounts, &tally, &mut rows, &sent_ids);
    row.account = found.account.display();
    row.account_source = found.account.source;
    row.campaigns = found.campaigns.len();
    row.campaign_bounces = found.campaigns.iter().map(|c| c.bounces).sum();
    row.recipients = found.recipients;
    row.recipient_domains = found.recipient_domains;
    row.estimated_sent_min = found.estimated_sent_min;
    row.estimated_sent_max = found.estimated_sent_max;
    row.rows = rows.len();
    row.first_seen = rows.iter().find_map(|r| r.time.clone());
    row.last_seen = rows.iter().rev().find_map(|r| r.time.clone());
    row.verdict = found.verdict.as_str();
    row.evidence = found.evidence;
    (row, found.campaigns, rows)
}

/// Writes one report file's content.
type WriteFn<'a> = dyn Fn(output::Out<'_>) -> std::io::Result<()> + Sync + 'a;

/// Stage 7: every report file, written in parallel, each atomically.
fn write_report(report: &Report, config: &Config) -> Result<(), Error> {
    let (out, excel) = (&config.out, config.excel);
    let s = &report.summary;
    let jobs: [(&str, &WriteFn<'_>); 6] = [
        ("timeline.csv", &|w| {
            output::csv::write(w, &report.records, excel)
        }),
        ("timeline.jsonl", &|w| {
            output::json::write_lines(w, &report.records)
        }),
        ("campaigns.csv", &|w| {
            output::csv::write(w, &report.campaigns, excel)
        }),
        // Indicators are collected here, beside the timeline writers: they
        // only read the rows, and the run is then not one step longer.
        ("iocs.csv", &|w| {
            output::csv::write(w, &iocs::collect(&report.records), excel)
        }),
        ("mailboxes.csv", &|w| {
            output::csv::write(w, &s.mailboxes, excel)
        }),
        ("summary.json", &|w| output::json::write_pretty(w, s)),
    ];
    jobs.par_iter()
        .map(|(name, write)| output::write_file(out, name, |w| write(w)).map(|_| ()))
        .collect::<Result<Vec<()>, Error>>()?;
    Ok(())
}

/// The rows of several vectors in one, each row moved once; a single vector
/// is handed on as it is (a row is hundreds of bytes, a timeline can be
/// millions of rows).
fn concat(mut runs: Vec<Vec<Record>>) -> Vec<Record> {
    if runs.len() == 1 {
        return runs.pop().unwrap_or_default();
    }
    let mut all = Vec::with_capacity(runs.iter().map(Vec::len).sum());
    for run in runs {
        all.extend(run);
    }
    all
}

fn merge_tally(into: &mut scan::Tally, from: scan::Tally) {
    for (a, b) in [
        (&mut into.delivered_to, from.delivered_to),
        (&mut into.to, from.to),
        (&mut into.sent_from, from.sent_from),
    ] {
        for (k, v) in b {
            *a.entry(k).or_insert(0) += v;
        }
    }
}
