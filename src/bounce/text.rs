//! The last resort: a bounce in free text from an MTA no family decoder
//! knows. Finds the failed recipients (X-Failed-Recipients, or addresses on
//! lines of the error part of the text) and the diagnostic lines near them.
//! Runs only on messages with a machine signal, so a person's mail that
//! mentions an address is never taken for a bounce.

use regex::Regex;
use std::sync::OnceLock;

use super::dsn::clean_address;
use super::phrases::Phrases;
use super::status::SmtpCommand;
use super::types::{Action, Bounce, Failure, Kind};
use super::{Decoder, Input};
use crate::original::find_inline;

/// Generic free-text bounce reader.
pub struct Text;

/// An address in text, with or without angle brackets.
pub fn address_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r#"(?i)[a-z0-9!#$%&'*+/=?^_`{|}~.-]+@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+"#)
            .expect("valid regex")
    })
}

/// `address_regex().find`, without running the regex on a text that has no
/// `@` (every address has one, and most lines have none).
pub fn find_address(t: &str) -> Option<regex::Match<'_>> {
    memchr::memchr(b'@', t.as_bytes())?;
    address_regex().find(t)
}

/// `address_regex().is_match`, with the same shortcut as `find_address`.
fn has_address(t: &str) -> bool {
    memchr::memchr(b'@', t.as_bytes()).is_some() && address_regex().is_match(t)
}

/// Words that mark a line as part of an error explanation.
const ERROR_WORDS: &[&str] = &[
    "unknown",
    "not found",
    "does not exist",
    "rejected",
    "refused",
    "failed",
    "failure",
    "error",
    "invalid",
    "unavailable",
    "denied",
    "full",
    "quota",
    "said:",
    "reply",
    "blocked",
    "undeliverable",
    "could not",
    "couldn't",
    "unable",
    "permanent",
    "expired",
    "no such",
    "user",
    "mailbox",
    "recipient",
    "giving up",
    "malformed", // Exim "malformed address"
    "550",
    "551",
    "552",
    "553",
    "554",
    "450",
    "451",
    "452",
];

impl Decoder for Text {
    fn name(&self) -> &'static str {
        "text"
    }

    fn sniff(&self, input: &Input<'_, '_>) -> bool {
        let h = input.hints;
        h.daemon_sender
            || h.null_return_path
            || h.failed_recipients
            || (h.bounce_subject && !h.forward_or_reply)
    }

    fn decode(&self, input: &Input<'_, '_>) -> Option<Bounce> {
        let head = input.error_lines();
        let own = [
            clean_address(&input.from),
            input.header("To").and_then(|t| clean_address(&t)),
        ];
        let mut failures: Vec<Failure> = Vec::new();
        if let Some(x) = input.header("X-Failed-Recipients") {
            for a in x.split(',').filter_map(clean_address) {
                failures.push(Failure {
                    recipient: a,
                    ..Default::default()
                });
            }
        }
        let lines = &head.lines;
        if failures.is_empty() {
            // A listed address is a recipient even when it is the bounce's own
            // To (a sender who wrote to themself).
            for addr in introduced_recipients(head) {
                if own[0].as_deref() != Some(addr.as_str())
                    && !is_system_address(&addr)
                    && !failures.iter().any(|f| f.recipient == addr)
                {
                    failures.push(Failure {
                        recipient: addr,
                        ..Default::default()
                    });
                }
            }
        }
        if failures.is_empty() {
            for (i, line) in lines.iter().enumerate() {
                if is_sender_line(line) {
                    continue;
                }
                if memchr::memchr(b'@', line.as_bytes()).is_none() {
                    continue;
                }
                for m in address_regex().find_iter(line) {
                    let addr = m.as_str().trim_matches('.').to_lowercase();
                    if own.iter().any(|o| o.as_deref() == Some(addr.as_str()))
                        || is_system_address(&addr)
                        || failures.iter().any(|f| f.recipient == addr)
                    {
                        continue;
                    }
                    // The address must stand on an error line or just before one.
                    let near = lines[i..lines.len().min(i + 4)]
                        .iter()
                        .any(|l| is_error_line(l));
                    if near {
                        failures.push(Failure {
                            recipient: addr,
                            ..Default::default()
                        });
                    }
                }
            }
        }
        if failures.is_empty() {
            return None;
        }
        let all: Vec<String> = failures.iter().map(|f| f.recipient.clone()).collect();
        let others: Vec<&str> = all.iter().map(String::as_str).collect();
        for f in &mut failures {
            f.diagnostic = diagnostic_for(head, &f.recipient, &others);
        }
        // A warning that delivery is only delayed (Gmail's "THIS IS A
        // WARNING MESSAGE ONLY"), often with no code at all.
        // The phrases are one-line lowercase ASCII: searching each lowercase
        // line is searching the lowercase text.
        static DELAY_SET: Phrases = Phrases::new(DELAYED);
        if head.lower.iter().any(|l| DELAY_SET.any_in(l)) {
            for f in &mut failures {
                f.action = Some(Action::Delayed);
            }
        }
        let mut b = Bounce::new(Kind::MtaText, self.name());
        b.failures = failures;
        Some(b)
    }
}

/// Sentences of notices that report a delay, not a failure (lowercase,
/// sorted; each from the MTA that writes it).
const DELAYED: &[&str] = &[
    "delivery to the following recipient has been delayed", // Gmail
    "is only a temporary failure report",                   // OpenSMTPD
    "this is a warning message only",                       // Gmail
];

/// Sentences that introduce the list of failed recipients (lowercase).
/// Sorted; each from the MTA whose notice uses it.
const INTROS: &[&str] = &[
    "could not be delivered to", // Exim, GMX, 1&1: "could not be delivered to one or more of its recipients"
    "delivery to the following recipient", // Gmail: "Delivery to the following recipient failed permanently"
    "delevery to the following recipients", // unnamed MTA (x3), sic
    "following address",                   // Exim "The following address(es) failed", Yahoo, GMX
    "following recipient",                 // Office 365, Domino, Gmail
    "failure reasons",                     // Lotus Notes/Domino "------- Failure Reasons  --------"
    "incorrectly constructed", // Exim "contained one or more recipient addresses that were incorrectly constructed"
    "had delivery problems", // McAfee Email Gateway "--- The following addresses had delivery problems ---"
    "had permanent fatal errors", // Sendmail "----- The following addresses had permanent fatal errors -----"
    "undeliverable to",           // IMail Server "undeliverable to a@b"
    "wasn't able to deliver your message to", // qmail-send
    "以下のメールアドレスへの送信に失敗", // m-FILTER (Digital Arts)
    "送信に失敗しました",         // Japanese carriers and filters
];

/// Addresses listed after an intro sentence (`INTROS`): every later line
/// of the error text that starts with an address (`<a@b>:` of qmail,
/// `  a@b` of Exim, `* a@b`); an address inside a diagnostic sentence is not
/// taken. Returns lowercase addresses in order.
fn introduced_recipients(text: &Lines<'_>) -> Vec<String> {
    let lines = &text.lines;
    let mut out: Vec<String> = Vec::new();
    // One overlapping automaton pass per lowercase line finds every intro
    // phrase in it (one `str::find` per phrase built a searcher each time).
    // As before, the phrase earliest in the table wins, at its first
    // occurrence: for one phrase the overlapping search reports the
    // leftmost occurrence first.
    static SET: OnceLock<aho_corasick::AhoCorasick> = OnceLock::new();
    let set = SET.get_or_init(|| {
        aho_corasick::AhoCorasickBuilder::new()
            .kind(Some(aho_corasick::AhoCorasickKind::ContiguousNFA))
            .build(INTROS)
            .expect("intro phrases are plain literals")
    });
    let Some((start, tail)) = text.lower.iter().enumerate().find_map(|(n, lower)| {
        let mut best: Option<(usize, usize)> = None;
        for m in set.find_overlapping_iter(lower.as_str()) {
            let p = m.pattern().as_usize();
            if best.is_none_or(|(b, _)| p < b) {
                best = Some((p, m.end()));
            }
        }
        best.map(|(_, end)| (n, lower.get(end..).unwrap_or("").to_string()))
    }) else {
        return out;
    };
    // "undeliverable to a@b": the address on the intro line itself.
    if let Some(m) = find_address(&tail) {
        out.push(m.as_str().trim_matches('.').to_string());
    }
    for l in lines.iter().skip(start + 1).take(400) {
        if !starts_with_address(l) {
            continue;
        }
        // An address as written in a header ("Name a@b <c@d>: malformed
        // address", Exim): the bracketed one is where mail would go.
        let item = l.split(">:").next().unwrap_or(l);
        let found = item
            .rfind('<')
            .and_then(|at| find_address(&item[at..]))
            .or_else(|| find_address(l));
        if let Some(m) = found {
            let a = m.as_str().trim_matches('.').to_lowercase();
            if !out.contains(&a) {
                out.push(a);
            }
        }
    }
    out
}

/// True when a line starts with an address (`<a@b>:`, `a@b`, `* a@b`).
fn starts_with_address(l: &str) -> bool {
    let t = l.trim_start().trim_start_matches(['*', '-', '<', '"', ' ']);
    find_address(t).is_some_and(|m| m.start() == 0)
}

/// Common separators after which the text is the returned message.
fn cut_at_marker(text: &str) -> usize {
    const MARKERS: &[&str] = &[
        "------ This is a copy of the message",
        "------ This is a copy of your message", // Exim "malformed recipient address"
        "--- Below this line is a copy of the message",
        "----- Original message -----",
        "------ Original message ------",
        "----- Unsent message follows -----",
        "------ Returned message ------",
        "------- Returned Message --------",
        "--- The header of the original message is following. ---",
        "Original message headers:",
    ];
    static SET: Phrases = Phrases::new(MARKERS);
    SET.find(text).map_or(text.len(), |(at, _)| at)
}

/// A line naming the sender ("From: a@b", "MAIL FROM: <a@b>", "Sender:")
/// in a summary of the returned message (Apache James, Verizon MMS).
fn is_sender_line(l: &str) -> bool {
    let lower = l.trim_start().to_ascii_lowercase();
    [
        "from:",
        "mail from:",
        "sender:",
        "reply-to:",
        "return-path:",
    ]
    .iter()
    .any(|p| lower.starts_with(p))
}

fn is_error_line(l: &str) -> bool {
    static SET: Phrases = Phrases::new(ERROR_WORDS);
    SET.any_in(l)
}

fn is_system_address(a: &str) -> bool {
    let local = a.split('@').next().unwrap_or("");
    matches!(
        local,
        "mailer-daemon"
            | "postmaster"
            | "mailer_daemon"
            | "double-bounce"
            | "root"
            | "noreply"
            | "no-reply"
    )
}

/// The part of a bounce text before the returned original (quoted headers
/// or a "copy of the message" separator): only it speaks of the failure.
pub fn error_head(text: &str) -> &str {
    error_head_before(text, find_inline(text.as_bytes()))
}

/// `error_head` with the offset of the inline original (`find_inline` of
/// the text) already known.
pub fn error_head_before(text: &str, inline: Option<usize>) -> &str {
    let cut = inline.unwrap_or(text.len());
    let head = text.get(..cut).unwrap_or(text);
    let cut = cut_at_marker(head);
    head.get(..cut).unwrap_or(head)
}

/// The lines of an error text with their lowercase copies, made once per
/// bounce: every failure's lookups (`diagnostic_for`, `command_for`) read
/// the same lines, and lowercasing each line per lookup dominated `finish`.
pub struct Lines<'t> {
    /// The lines as written.
    pub lines: Vec<&'t str>,
    /// `str::to_lowercase` of each line.
    lower: Vec<String>,
}

impl<'t> Lines<'t> {
    /// Splits a text into lines.
    pub fn new(text: &'t str) -> Lines<'t> {
        let lines: Vec<&str> = text.lines().collect();
        let lower = lines.iter().map(|l| l.to_lowercase()).collect();
        Lines { lines, lower }
    }
}

/// The diagnostic for one recipient in a bounce text: the recipient's own
/// line when it says more than the address, then the lines that follow it
/// up to an empty line. When that paragraph holds no reply code, up to
/// three more paragraphs are read to reach one: Gmail, DragonFly and x3-style
/// notices put "Technical details" or "did not like our final DATA:" between
/// the address and the server's answer. Stops at another recipient of
/// `others`. Falls back to the first line anywhere with a reply code.
pub fn diagnostic_for(text: &Lines<'_>, rcpt: &str, others: &[&str]) -> Option<String> {
    let has_code = |l: &str| {
        super::status::find_reply_code(l).is_some() || super::status::Status::find(l).is_some()
    };
    let (lines, lowers) = (&text.lines, &text.lower);
    // One searcher for the recipient, not one per line (`str::contains`
    // builds a Two-Way searcher on every call).
    let names_rcpt = memchr::memmem::Finder::new(rcpt.as_bytes());
    let names = |lower: &str| names_rcpt.find(lower.as_bytes()).is_some();
    let pos = lowers.iter().position(|l| names(l));
    let mut out: Vec<String> = Vec::new();
    if let Some(p) = pos {
        let own = lines[p].trim();
        let rest = own.to_lowercase().replace(rcpt, "");
        let own_taken = rest.trim_matches(|c: char| !c.is_alphanumeric()).len() > 8
            && (is_error_line(own) || has_code(own));
        if own_taken {
            out.push(own.to_string());
            // Sendmail's summary line ("554 <a@b>... Remote protocol error")
            // right after the server's answer in a transcript ("<<< 550
            // Insecure Mail Relay"): the answer is the cause.
            if let Some(answer) = p
                .checked_sub(1)
                .map(|q| lines[q].trim())
                .filter(|l| l.starts_with("<<<") && has_code(l))
            {
                out.push(answer.to_string());
            }
        }
        let mut paragraph: Vec<String> = Vec::new();
        let mut paragraphs = 0;
        let mut coded = out.iter().any(|l| has_code(l));
        // The lines that continue the recipient's own line belong to it
        // (Postfix wraps "... said: 550\n    : User unknown (in reply to end
        // of DATA command)").
        let mut continued = own_taken;
        for (l, lower) in lines.iter().zip(lowers).skip(p + 1).take(24) {
            if others
                .iter()
                .any(|o| *o != rcpt && super::phrases::find(lower, o).is_some())
            {
                break;
            }
            if l.trim().is_empty() {
                if paragraph.is_empty() {
                    continued = false;
                    continue;
                }
                let with_code = paragraph.iter().any(|x| has_code(x));
                if out.is_empty() || with_code || !coded || continued {
                    out.append(&mut paragraph);
                }
                continued = false;
                paragraph.clear();
                coded |= with_code;
                paragraphs += 1;
                if coded || paragraphs > 3 {
                    break;
                }
                continue;
            }
            if has_address(l) && !names(lower) && !is_error_line(l) {
                break;
            }
            paragraph.push(l.trim().to_string());
        }
        if !paragraph.is_empty() && (out.is_empty() || !coded || continued) {
            out.append(&mut paragraph);
        }
        // Without a code anywhere, the first paragraph is all we trust.
        if !out.iter().any(|l| has_code(l)) {
            out.truncate(out.len().min(4));
        }
    }
    if out.is_empty() {
        if let Some(l) = lines
            .iter()
            .find(|l| super::status::find_reply_code(l).is_some())
        {
            out.push(l.trim().to_string());
        }
    }
    // Lotus Notes puts the reason on the lines just before the address
    // ("------- Failure Reasons --------", "User not listed in public Name &
    // Address Book", "a@b"): with nothing after it, read upwards within
    // the paragraph, stopping at a separator or another address.
    if let (true, Some(p)) = (out.is_empty(), pos) {
        let above: Vec<&str> = lines[..p]
            .iter()
            .rev()
            .map(|l| l.trim())
            .take_while(|l| !l.is_empty() && !l.starts_with("---") && !has_address(l))
            .take(3)
            .collect();
        out.extend(above.into_iter().rev().map(str::to_string));
    }
    (!out.is_empty()).then(|| out.join(" "))
}

/// The SMTP command a bounce text names for one recipient:
/// - a Sendmail transcript (`>>> DATA` then `<<< 550 ... <rcpt>`): the
///   command before the answer that names the recipient, or before the
///   answer the recipient's summary line follows ("<<< 550 Insecure Mail
///   Relay" then "554 <rcpt>... Remote protocol error"). With PIPELINING
///   Sendmail shows only the last command sent (`>>> DATA`) and then every
///   answer in order: only the last answer is DATA's ("503 Need RCPT",
///   "554 no valid recipients"); an answer naming the recipient that is
///   followed by another one was the answer to its RCPT TO;
/// - else Postfix's "(in reply to end of DATA command)", Exim's "after
///   RCPT TO:" and the like in the recipient's paragraph (`diagnostic_for`),
///   for reports whose `Diagnostic-Code` leaves the command out.
pub fn command_for(lines: &Lines<'_>, rcpt: &str, others: &[&str]) -> Option<SmtpCommand> {
    if let Some(c) = transcript_command_for(lines, rcpt) {
        return c;
    }
    let paragraph = diagnostic_for(lines, rcpt, others)?;
    SmtpCommand::find_ci(&paragraph)
}

/// The transcript part of `command_for`: Some when a Sendmail transcript
/// decides (even when it decides "no command"), None to read the paragraph.
pub fn transcript_command_for(text: &Lines<'_>, rcpt: &str) -> Option<Option<SmtpCommand>> {
    let mut last: Option<SmtpCommand> = None;
    // The recipient's answer, waiting to see whether another answer follows.
    let mut pending: Option<Option<SmtpCommand>> = None;
    let mut after_answer: Option<SmtpCommand> = None;
    let names_rcpt = memchr::memmem::Finder::new(rcpt.as_bytes());
    for (l, full_lower) in text.lines.iter().zip(&text.lower) {
        let t = l.trim_start();
        // ASCII lowercase of the trimmed line; for an ASCII line that is
        // the shared lowercase copy, trimmed (no new string).
        let ascii_lower;
        let lower: &str = if l.is_ascii() {
            full_lower.trim_start()
        } else {
            ascii_lower = t.to_ascii_lowercase();
            &ascii_lower
        };
        let names = || names_rcpt.find(lower.as_bytes()).is_some();
        if let Some(cmd) = lower.strip_prefix(">>>") {
            if let Some(c) = pending {
                return Some(c);
            }
            last = transcript_command(cmd.trim());
            after_answer = None;
        } else if lower.starts_with("<<<") {
            if pending.is_some() {
                return Some(Some(SmtpCommand::Rcpt));
            }
            if names() {
                pending = Some(last);
            }
            after_answer = last;
        } else if lower.starts_with("... while talking to") || lower.starts_with("while talking to")
        {
            if let Some(c) = pending {
                return Some(c);
            }
            last = None;
            after_answer = None;
        } else if !t.is_empty() {
            if pending.is_none() && after_answer.is_some() && names() {
                pending = Some(after_answer);
            }
            after_answer = None;
        }
    }
    pending
}

/// The command of a transcript's `>>> ` line (lowercase, without `>>>`).
fn transcript_command(cmd: &str) -> Option<SmtpCommand> {
    // Sendmail shows the end of data as ">>> ." or as ">>> DATA".
    const COMMANDS: &[(&str, SmtpCommand)] = &[
        (".", SmtpCommand::Data),
        ("data", SmtpCommand::Data),
        ("ehlo", SmtpCommand::Connect),
        ("helo", SmtpCommand::Connect),
        ("mail from", SmtpCommand::Mail),
        ("rcpt to", SmtpCommand::Rcpt),
    ];
    COMMANDS
        .iter()
        .find(|(w, _)| cmd == *w || (w.len() > 1 && cmd.starts_with(w)))
        .map(|(_, c)| *c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse;
    use crate::triage::Hints;

    #[test]
    fn qmail_like_text() {
        let m = b"From: MAILER-DAEMON@mx.example.jp\nTo: tanaka@example.jp\nSubject: failure notice\n\nHi. This is the qmail-send program at mx.example.jp.\nI'm afraid I wasn't able to deliver your message to the following addresses.\n\n<bob@example.net>:\n192.0.2.9 does not like recipient.\nRemote host said: 550 5.1.1 <bob@example.net>... User Unknown\nGiving up on 192.0.2.9.\n\n--- Below this line is a copy of the message.\n\nFrom: tanaka@example.jp\nTo: bob@example.net\nSubject: x\n\nhi\n";
        let p = parse(m);
        let input = Input::new(
            &p,
            Hints {
                daemon_sender: true,
                ..Default::default()
            },
        );
        let b = Text.decode(&input).unwrap();
        assert_eq!(b.failures.len(), 1);
        assert_eq!(b.failures[0].recipient, "bob@example.net");
        assert!(b.failures[0]
            .diagnostic
            .as_deref()
            .unwrap()
            .contains("550 5.1.1"));
    }
}
