//! bouncetrail: offline forensics for MAILER-DAEMON floods.
//!
//! The pipeline, one stage per module, in order:
//! `discover` (inputs → sources) → `mailbox` (bytes → messages) → `triage`
//! (cheap header look) → `parse` (MIME) → `bounce` (decoders) → `record`
//! (flat rows) → `campaign`/`verdict` (aggregate) → `output` (writers).
//! `scan` drives stages 2–5 for one file; `run` below is the whole pipeline.

pub mod cli;
pub mod config;
pub mod error;
pub mod report;

pub mod bounce;
pub mod campaign;
pub mod date;
pub mod discover;
pub mod evidence;
pub mod iocs;
pub mod mailbox;
pub mod message;
pub mod original;
pub mod output;
pub mod parse;
pub mod record;
pub mod scan;
pub mod triage;
pub mod verdict;

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

/// Runs the whole pipeline.
pub fn run(config: &Config) -> Result<Summary, Error> {
    output::prepare(&config.out)?;
    let found = discover::discover(&config.inputs, config.batch)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(config.threads.unwrap_or(0))
        .build()
        .map_err(|e| {
            Error::Usage(format!(
                "cannot start {} threads: {e}",
                config.threads.unwrap_or(0)
            ))
        })?;
    let total: u64 = found.sources.iter().map(|s| s.len).sum();
    let progress = report::progress_bar(total, config.quiet);
    let results: Vec<scan::SourceResult> = pool.install(|| {
        found
            .sources
            .par_iter()
            .enumerate()
            .map(|(i, s)| {
                scan::scan_source(s, i, &found.mailboxes[s.mailbox].name, config, &progress)
            })
            .collect()
    });
    progress.finish_and_clear();

    // Warnings, in input order.
    let mut problems = found.problems.clone();
    for r in &results {
        problems.extend(r.problems.iter().cloned());
    }
    for p in &problems {
        report::warn(p);
    }
    let readable = results
        .iter()
        .any(|r| matches!(r.format, "mbox" | "mbox.gz" | "message"));
    if !readable {
        return Err(Error::NothingReadable);
    }

    // Aggregate per mailbox.
    let mut records: Vec<Record> = Vec::new();
    let mut inputs = Vec::new();
    for (s, r) in found.sources.iter().zip(&results) {
        inputs.push(InputFile {
            path: s.display.clone(),
            mailbox: found.mailboxes[s.mailbox].name.clone(),
            format: r.format,
            size: r.size,
            sha256: r.sha256.clone(),
            messages: r.counts.messages,
            errors: r.problems.len(),
        });
    }
    let mut mailboxes = Vec::new();
    let mut campaigns = Vec::new();
    let mut results = results;
    let per_mailbox: Vec<Vec<usize>> = (0..found.mailboxes.len())
        .map(|m| {
            found
                .sources
                .iter()
                .enumerate()
                .filter(|(_, s)| s.mailbox == m)
                .map(|(i, _)| i)
                .collect()
        })
        .collect();
    for (m, spec) in found.mailboxes.iter().enumerate() {
        let mut rows: Vec<Record> = Vec::new();
        let mut tally = scan::Tally::default();
        let mut sent_ids = HashSet::new();
        let mut row = MailboxRow {
            mailbox: spec.name.clone(),
            files: per_mailbox[m].len(),
            ..Default::default()
        };
        for &i in &per_mailbox[m] {
            let r = &mut results[i];
            row.messages += r.counts.messages;
            row.bounces += r.counts.bounces;
            row.autoreplies += r.counts.autoreplies;
            row.feedback_reports += r.counts.feedback;
            row.problems += r.problems.len();
            rows.append(&mut r.records);
            let t = std::mem::take(&mut r.tally);
            merge_tally(&mut tally, t);
            sent_ids.extend(r.sent_ids.drain(..));
        }
        record::sort(&mut rows);
        let found = verdict::assess(
            m,
            &spec.name,
            &config.accounts,
            &tally,
            &mut rows,
            &sent_ids,
        );
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
        let camps = found.campaigns;
        mailboxes.push(row);
        campaigns.extend(camps);
        records.extend(rows);
    }
    record::sort(&mut records);
    // Compromised first, then backscatter, inconclusive, clean; stable by name.
    let rank = |v: &str| {
        verdict::Verdict::ALL
            .iter()
            .position(|x| x.as_str() == v)
            .unwrap_or(9)
    };
    let mut sorted_mailboxes = mailboxes.clone();
    sorted_mailboxes.sort_by_key(|r| rank(r.verdict));

    let totals = Totals {
        files: inputs.len(),
        bytes: inputs.iter().map(|i| i.size).sum(),
        messages: inputs.iter().map(|i| i.messages).sum(),
        parsed: results.iter().map(|r| r.counts.parsed).sum(),
        bounces: mailboxes.iter().map(|m| m.bounces).sum(),
        autoreplies: mailboxes.iter().map(|m| m.autoreplies).sum(),
        feedback: mailboxes.iter().map(|m| m.feedback_reports).sum(),
        rows: records.len(),
        campaigns: campaigns.len(),
        problems: problems.len(),
    };
    let summary = Summary {
        tool: env!("CARGO_PKG_NAME"),
        version: env!("CARGO_PKG_VERSION"),
        arguments: config.arguments.clone(),
        out_dir: config.out.display().to_string(),
        inputs,
        mailboxes: sorted_mailboxes.clone(),
        campaigns: campaigns.clone(),
        campaign_rule: campaign::rule(),
        scale_assumption: campaign::SCALE_ASSUMPTION,
        next_steps: if mailboxes.iter().any(|m| m.verdict == "compromised") {
            report::NEXT_STEPS.to_vec()
        } else {
            Vec::new()
        },
        totals,
        problems,
    };
    let out = &config.out;
    output::write_file(out, "timeline.csv", |w| {
        output::csv::write(w, &records, config.excel)
    })?;
    output::write_file(out, "timeline.jsonl", |w| {
        output::json::write_lines(w, &records)
    })?;
    output::write_file(out, "campaigns.csv", |w| {
        output::csv::write(w, &campaigns, config.excel)
    })?;
    let iocs = iocs::collect(&records);
    output::write_file(out, "iocs.csv", |w| {
        output::csv::write(w, &iocs, config.excel)
    })?;
    output::write_file(out, "mailboxes.csv", |w| {
        output::csv::write(w, &sorted_mailboxes, config.excel)
    })?;
    output::write_file(out, "summary.json", |w| {
        output::json::write_pretty(w, &summary)
    })?;
    Ok(summary)
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
