//! What the user sees on the terminal: warnings on stderr (sanitized: file
//! names and subjects are attacker-controlled), the progress bar, and the
//! closing summary on stdout. A closed stdout (`| head`) is not an error.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::config::Config;
use crate::error::Problem;
use crate::Summary;

/// Escapes control and bidi characters so a file name or subject cannot
/// rewrite the terminal.
pub fn sanitize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let bidi = matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}');
        if c.is_control() || bidi {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// Prints one warning line on stderr.
pub fn warn(p: &Problem) {
    let _ = writeln!(
        std::io::stderr().lock(),
        "bouncetrail: warning: {}",
        sanitize(&p.to_string())
    );
}

/// Progress on stderr: bytes done of total, messages and messages per
/// second, ETA. Hidden when stderr is not a terminal or `--quiet` is set.
pub struct Progress {
    bar: ProgressBar,
    messages: AtomicU64,
    start: Instant,
}

impl Progress {
    /// A bar for `total` input bytes.
    pub fn new(total: u64, quiet: bool) -> Progress {
        let bar = if quiet || !std::io::stderr().is_terminal() {
            ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden())
        } else {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} {bytes}/{total_bytes} {bytes_per_sec} {msg} ETA {eta} [{wide_bar}]",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar
        };
        Progress {
            bar,
            messages: AtomicU64::new(0),
            start: Instant::now(),
        }
    }

    /// Records work done: input bytes and messages (called per chunk or file).
    pub fn advance(&self, bytes: u64, messages: u64) {
        self.bar.inc(bytes);
        let n = self.messages.fetch_add(messages, Ordering::Relaxed) + messages;
        if !self.bar.is_hidden() {
            let secs = self.start.elapsed().as_secs_f64().max(1e-3);
            self.bar
                .set_message(format!("{n} msgs {:.0} msgs/s", n as f64 / secs));
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// What to do when a mailbox is compromised, in order (stdout and summary.json).
pub const NEXT_STEPS: &[&str] = &[
    "Change the mail password now: long and random (a password manager can make one), not used anywhere else.",
    "Then change the passwords, or the registered e-mail address, of bank, card and shopping sites tied to this address, those first.",
    "Check the computers and phones that use this mailbox for malware; the password may have been stolen there.",
    "If bounces keep coming after a strong new password, suspect the hosting provider or its control panel and change that password too.",
];

/// The closing summary on stdout.
pub fn print_summary(s: &Summary, config: &Config) {
    let mut out = std::io::stdout().lock();
    let _ = write_summary(&mut out, s, config);
}

fn write_summary(out: &mut dyn Write, s: &Summary, config: &Config) -> std::io::Result<()> {
    let t = &s.totals;
    writeln!(out, "bouncetrail {}: {} files, {} messages, {} bounces, {} auto-replies, {} feedback reports, {} campaigns",
        s.version, t.files, t.messages, t.bounces, t.autoreplies, t.feedback, t.campaigns)?;
    for m in &s.mailboxes {
        writeln!(
            out,
            "  {}  [{}]  account {}  messages {}  bounces {}  auto-replies {}  campaigns {}",
            sanitize(&m.mailbox),
            m.verdict,
            m.account
                .as_deref()
                .map(sanitize)
                .unwrap_or_else(|| "?".into()),
            m.messages,
            m.bounces,
            m.autoreplies,
            m.campaigns
        )?;
        writeln!(out, "      {}", sanitize(&m.evidence))?;
        if m.campaigns > 0 {
            writeln!(
                out,
                "      scale: {} bounces to {} recipients at {} domains; estimated {}-{} messages sent",
                m.campaign_bounces,
                m.recipients,
                m.recipient_domains,
                m.estimated_sent_min,
                m.estimated_sent_max
            )?;
        }
    }
    let mut counts = std::collections::BTreeMap::new();
    for m in &s.mailboxes {
        *counts.entry(m.verdict).or_insert(0) += 1;
    }
    if s.mailboxes.len() > 1 {
        let line: Vec<String> = ["compromised", "backscatter", "inconclusive", "clean"]
            .iter()
            .map(|v| format!("{} {v}", counts.get(v).copied().unwrap_or(0)))
            .collect();
        writeln!(out, "verdicts: {}", line.join(", "))?;
    }
    let compromised: std::collections::BTreeSet<&str> = s
        .mailboxes
        .iter()
        .filter(|m| m.verdict == "compromised")
        .map(|m| m.account.as_deref().unwrap_or(m.mailbox.as_str()))
        .collect();
    if !compromised.is_empty() {
        writeln!(
            out,
            "what to do next ({}):",
            sanitize(&compromised.into_iter().collect::<Vec<_>>().join(", "))
        )?;
        for (i, step) in NEXT_STEPS.iter().enumerate() {
            writeln!(out, "  {}. {step}", i + 1)?;
        }
    }
    if t.problems > 0 {
        writeln!(
            out,
            "{} input problem(s): see the warnings above and summary.json",
            t.problems
        )?;
    }
    writeln!(
        out,
        "report: {}/ (timeline.csv, timeline.jsonl, campaigns.csv, iocs.csv, mailboxes.csv, summary.json)",
        config.out.display()
    )?;
    Ok(())
}
