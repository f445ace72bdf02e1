//! bouncetrail: offline forensics for MAILER-DAEMON floods.
//!
//! The pipeline, one stage per module, in order:
//! `discover` (inputs → sources) → `mailbox` (bytes → messages) → `triage`
//! (cheap header look) → `parse` (MIME) → `bounce` (decoders) → `record`
//! (flat rows) → `campaign` (the timeline: rows in order, in campaigns) →
//! `verdict` (campaigns judged) → `output` (writers; the timeline files are
//! written while the campaigns are judged). `scan` drives stages 2–5 for one
//! file; `run` below is the whole pipeline.

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
// `decode`: stages 1–5, rows straight out
pub mod stream;

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
/// → timeline (rows in order, campaigns) → verdicts → write.
pub fn run(config: &Config) -> Result<Summary, Error> {
    output::prepare(&config.out)?;
    let found = discover::discover(&config.inputs, config.batch)?;
    thread_pool(config)?.install(|| {
        let results = scan_all(&found, config, scan::RowsTo::Keep);
        let problems = collect_problems(&found, &results);
        any_readable(&results)?;
        let timeline = timeline(&found, results, config);
        // The timeline files need only the rows, whose campaigns are known:
        // they are written while the campaigns are summarised and judged,
        // and the summary files after that.
        let (written, summary) = rayon::join(
            || write_timeline(&timeline.records, config),
            || {
                let summary = assess(&timeline, problems, config);
                write_summary(&summary, config).map(|()| summary)
            },
        );
        written?;
        free(timeline.records);
        summary
    })
}

/// The worker threads of a run (`--threads`, else one per core).
pub(crate) fn thread_pool(config: &Config) -> Result<rayon::ThreadPool, Error> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(config.threads.unwrap_or(0))
        .build()
        .map_err(|e| Error::Usage(format!("cannot start the worker threads: {e}")))
}

/// A run fails when no input at all could be read as mail.
pub(crate) fn any_readable(results: &[scan::SourceResult]) -> Result<(), Error> {
    if results
        .iter()
        .any(|r| matches!(r.format, "mbox" | "mbox.gz" | "message"))
    {
        Ok(())
    } else {
        Err(Error::NothingReadable)
    }
}

/// Stages 2–5 on every file, in parallel; results in discovery order.
pub(crate) fn scan_all(
    found: &discover::Discovery,
    config: &Config,
    rows: scan::RowsTo<'_, '_>,
) -> Vec<scan::SourceResult> {
    let total: u64 = found.sources.iter().map(|s| s.len).sum();
    let progress = report::Progress::new(total, config.quiet);
    prepare_tables();
    // Files taken in discovery order, so rows streamed out in that order
    // wait on few others.
    let results = scan::in_order(found.sources.len(), |i| {
        let s = &found.sources[i];
        let mailbox = &found.mailboxes[s.mailbox].name;
        let result = scan::scan_source(s, i, mailbox, config, rows, &progress);
        if let scan::RowsTo::Json { out, .. } = rows {
            out.end(i, result.chunks);
        }
        result
    });
    progress.finish();
    results
}

/// Builds the largest phrase tables before the scan, spread over the
/// workers, largest first. Each is built on first use anyway; left to that,
/// the workers' first messages all ask for the same table at once, and all
/// but one wait while it is built (~15 M instructions in all, triage's DFAs
/// two thirds of it).
fn prepare_tables() {
    let tables: Vec<fn()> = triage::TABLES.into_iter().chain(bounce::TABLES).collect();
    scan::in_order(tables.len(), |i| tables[i]());
}

/// Every problem of discovery and scan, in input order, printed as warnings.
pub(crate) fn collect_problems(
    found: &discover::Discovery,
    results: &[scan::SourceResult],
) -> Vec<Problem> {
    let mut problems = found.problems.clone();
    for r in results {
        problems.extend(r.problems.iter().cloned());
    }
    for p in &problems {
        report::warn(p);
    }
    problems
}

/// Stage 6a's result: every row in time order, each in its campaign, and
/// what the verdicts need of each mailbox.
struct Timeline {
    records: Vec<Record>,
    mailboxes: Vec<Grouped>,
    inputs: Vec<InputFile>,
    /// Messages that earned a full parse.
    parsed: u64,
}

/// One mailbox after stage 6a (its rows are in `Timeline::records`).
struct Grouped {
    /// Its counts so far; `assess` adds the verdict.
    row: MailboxRow,
    account: campaign::Account,
    /// The campaign ids, in order.
    campaigns: Vec<String>,
    sent_ids: HashSet<String>,
}

/// Stage 6a: each mailbox's rows in time order, its account and campaigns
/// (mailboxes in parallel), then every row in time order.
fn timeline(
    found: &discover::Discovery,
    results: Vec<scan::SourceResult>,
    config: &Config,
) -> Timeline {
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
    let (mailboxes, runs): (Vec<Grouped>, Vec<Vec<Record>>) = groups
        .into_par_iter()
        .enumerate()
        .map(|(m, files)| group_mailbox(m, &found.mailboxes[m].name, files, config))
        .unzip();
    // Each mailbox's rows are sorted: their concatenation is sorted runs,
    // which `record::sort` merges (one mailbox: nothing to do).
    let mut records = concat(runs);
    record::sort(&mut records);
    Timeline {
        records,
        mailboxes,
        inputs,
        parsed,
    }
}

/// One mailbox: its rows in time order, the account and the campaigns.
fn group_mailbox(
    m: usize,
    name: &str,
    files: Vec<scan::SourceResult>,
    config: &Config,
) -> (Grouped, Vec<Record>) {
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
    let refs: Vec<&Record> = rows.iter().collect();
    let account = campaign::infer_account(&config.accounts, &tally, &refs);
    let campaigns = campaign::group(m, &account, &mut rows);
    row.account = account.display();
    row.account_source = account.source.clone();
    row.rows = rows.len();
    row.first_seen = rows.iter().find_map(|r| r.time.clone());
    row.last_seen = rows.iter().rev().find_map(|r| r.time.clone());
    let grouped = Grouped {
        row,
        account,
        campaigns,
        sent_ids,
    };
    (grouped, rows)
}

/// Stage 6b: each mailbox's campaigns summarised and judged, and its
/// verdict (mailboxes in parallel), in the summary.
fn assess(timeline: &Timeline, problems: Vec<Problem>, config: &Config) -> Summary {
    // Each mailbox's rows, in time order.
    let mut rows: Vec<Vec<&Record>> = vec![Vec::new(); timeline.mailboxes.len()];
    for r in &timeline.records {
        if let Some(m) = rows.get_mut(r.mailbox_index) {
            m.push(r);
        }
    }
    let assessed: Vec<(MailboxRow, Vec<campaign::CampaignRow>)> = timeline
        .mailboxes
        .par_iter()
        .zip(rows)
        .map(|(m, rows)| {
            let found =
                verdict::assess(&m.row.mailbox, &m.account, &m.campaigns, &rows, &m.sent_ids);
            let row = MailboxRow {
                campaigns: found.campaigns.len(),
                campaign_bounces: found.campaigns.iter().map(|c| c.bounces).sum(),
                recipients: found.recipients,
                recipient_domains: found.recipient_domains,
                estimated_sent_min: found.estimated_sent_min,
                estimated_sent_max: found.estimated_sent_max,
                verdict: found.verdict.as_str(),
                evidence: found.evidence,
                ..m.row.clone()
            };
            (row, found.campaigns)
        })
        .collect();
    let mut mailboxes = Vec::with_capacity(assessed.len());
    let mut campaigns = Vec::new();
    for (row, camps) in assessed {
        mailboxes.push(row);
        campaigns.extend(camps);
    }
    // Compromised first, then backscatter, inconclusive, clean; stable by name.
    let rank = |v: &str| {
        verdict::Verdict::ALL
            .iter()
            .position(|x| x.as_str() == v)
            .unwrap_or(9)
    };
    mailboxes.sort_by_key(|r| rank(r.verdict));
    let inputs = timeline.inputs.clone();
    let totals = Totals {
        files: inputs.len(),
        bytes: inputs.iter().map(|i| i.size).sum(),
        messages: inputs.iter().map(|i| i.messages).sum(),
        parsed: timeline.parsed,
        bounces: mailboxes.iter().map(|m| m.bounces).sum(),
        autoreplies: mailboxes.iter().map(|m| m.autoreplies).sum(),
        feedback: mailboxes.iter().map(|m| m.feedback_reports).sum(),
        rows: timeline.records.len(),
        campaigns: campaigns.len(),
        problems: problems.len(),
    };
    let next_steps = if mailboxes.iter().any(|m| m.verdict == "compromised") {
        report::NEXT_STEPS.to_vec()
    } else {
        Vec::new()
    };
    Summary {
        tool: env!("CARGO_PKG_NAME"),
        version: env!("CARGO_PKG_VERSION"),
        arguments: config.arguments.clone(),
        out_dir: config.out.display().to_string(),
        inputs,
        mailboxes,
        campaigns,
        campaign_rule: campaign::rule(),
        scale_assumption: campaign::SCALE_ASSUMPTION,
        next_steps,
        totals,
        problems,
    }
}

/// Writes one report file's content.
type WriteFn<'a> = dyn Fn(output::Out<'_>) -> std::io::Result<()> + Sync + 'a;

/// Stage 7a: the files of the timeline, written in parallel, each
/// atomically.
fn write_timeline(records: &[Record], config: &Config) -> Result<(), Error> {
    let excel = config.excel;
    write_files(
        config,
        &[
            // Indicators are collected here, beside the timeline writers:
            // they only read the rows, and the run is then not one step
            // longer. First: its steps run one after the other (collect,
            // then encode), the timeline's blocks fill the gaps.
            ("iocs.csv", &|w| {
                output::csv::write_rows(w, &iocs::collect(records), excel)
            }),
            ("timeline.jsonl", &|w| output::json::write_rows(w, records)),
            ("timeline.csv", &|w| {
                output::csv::write_rows(w, records, excel)
            }),
        ],
    )
}

/// Stage 7b: the files of the summary, written in parallel, each
/// atomically.
fn write_summary(s: &Summary, config: &Config) -> Result<(), Error> {
    let excel = config.excel;
    write_files(
        config,
        &[
            ("campaigns.csv", &|w| {
                output::csv::write(w, &s.campaigns, excel)
            }),
            ("mailboxes.csv", &|w| {
                output::csv::write(w, &s.mailboxes, excel)
            }),
            ("summary.json", &|w| output::json::write_pretty(w, s)),
        ],
    )
}

/// Writes report files in parallel, each atomically.
fn write_files(config: &Config, jobs: &[(&str, &WriteFn<'_>)]) -> Result<(), Error> {
    jobs.par_iter()
        .map(|(name, write)| output::write_file(&config.out, name, |w| write(w)).map(|_| ()))
        .collect()
}

/// Frees the rows: some 25 strings each, and a quarter of a million frees
/// take a few milliseconds, so they are shared out over the threads.
pub(crate) fn free(records: Vec<Record>) {
    records.into_par_iter().for_each(drop);
}

/// The rows of several vectors in one, each row moved once; a single vector
/// is handed on as it is (a row is hundreds of bytes, a timeline can be
/// millions of rows).
pub(crate) fn concat(mut runs: Vec<Vec<Record>>) -> Vec<Record> {
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
