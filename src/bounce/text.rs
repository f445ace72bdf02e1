//! The last resort: a bounce in free text from an MTA no family decoder
//! knows. Finds the failed recipients (X-Failed-Recipients, or addresses on
//! lines of the error part of the text) and the diagnostic lines near them.
//! Runs only on messages with a machine signal, so a person's mail that
//! mentions an address is never taken for a bounce.

use regex::Regex;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
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
    "delayed",   // delay notices ("Message delayed")
    // Localized wording of the same (the text decoder's fallback looks for
    // an address on or just before such a line).
    "fehler",         // German "Fehler"
    "fehlgeschlagen", // German
    "unbekannt",      // German
    "erreur",         // French
    "échoué",         // French
    "inconnu",        // French
    "ошибка",         // Russian
    "не доставлено",  // Russian
    "переполнен",     // Russian ("full")
    "エラー",         // Japanese
    "失敗",           // Japanese, Chinese
    "存在しません",   // Japanese ("does not exist")
    "错误",           // Chinese
    "不存在",         // Chinese ("does not exist")
    "已满",           // Chinese ("full")
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
        // How strongly the headers say "bounce": a bounce-like subject
        // alone (a newsletter about delivery failures) or a postmaster
        // sender alone (a quota warning) is weak. Then a mailing list's
        // message is none, and an address outside a list of failed
        // recipients is taken only near a reply or status code.
        let h = input.hints;
        let weak = !(h.null_return_path
            || h.report
            || h.failed_recipients
            || h.auto_generated
            || h.ndr
            || (h.daemon_sender && h.bounce_subject));
        if weak && (input.header("List-Unsubscribe").is_some() || input.header("List-Id").is_some())
        {
            return None;
        }
        let head = input.error_lines();
        // The bounce's own From, cleaned only when an address is compared.
        let from = std::cell::OnceCell::new();
        let from = || from.get_or_init(|| clean_address(&input.from)).clone();
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
                if from().as_deref() != Some(addr.as_str())
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
        // Addresses found only near error words (no header lists them, no
        // intro sentence introduces them) must come with something said
        // about them.
        let mut guessed = false;
        if failures.is_empty() {
            guessed = true;
            let own = [from(), input.header("To").and_then(|t| clean_address(&t))];
            for (i, line) in lines.iter().enumerate() {
                // Most lines hold no address: the byte test comes first.
                if memchr::memchr(b'@', line.as_bytes()).is_none() || is_sender_line(line) {
                    continue;
                }
                for m in address_regex().find_iter(line) {
                    let Some(addr) = candidate(m.as_str()) else {
                        continue;
                    };
                    if own.iter().any(|o| o.as_deref() == Some(addr.as_str()))
                        || is_system_address(&addr)
                        || failures.iter().any(|f| f.recipient == addr)
                    {
                        continue;
                    }
                    // The address must stand on an error line or just before one.
                    let near = (i..lines.len().min(i + 4)).any(|j| head.is_error(j))
                        && (!weak
                            || is_rcpt_line(line)
                            || (i.saturating_sub(4)..lines.len().min(i + 4))
                                .any(|j| head.has_code(j)));
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
        let group = head.recipients_group(&others);
        for f in &mut failures {
            f.diagnostic = diagnostic_in(head, group, &f.recipient, &others);
        }
        if guessed {
            failures.retain(|f| {
                f.diagnostic
                    .as_deref()
                    .is_some_and(|d| !d.trim().is_empty())
            });
            if failures.is_empty() {
                return None;
            }
        }
        // A warning that delivery is only delayed (Gmail's "THIS IS A
        // WARNING MESSAGE ONLY"), often with no code at all.
        // The phrases are one-line lowercase ASCII: searching the lowercase
        // text once is searching each lowercase line, and a case-sensitive
        // search of it can use memchr's SIMD search.
        static DELAY_SET: OnceLock<Vec<memchr::memmem::Finder<'static>>> = OnceLock::new();
        let delay_set = DELAY_SET.get_or_init(|| {
            DELAYED
                .iter()
                .map(|p| memchr::memmem::Finder::new(p.as_bytes()))
                .collect()
        });
        if delay_set
            .iter()
            .any(|p| p.find(head.lower.as_bytes()).is_some())
        {
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
    "delivery is delayed to these recipients or groups", // Exchange 2010-2019
    "delivery to the following recipient has been delayed", // Gmail
    "is only a temporary failure report",                // OpenSMTPD
    "this is a warning message only",                    // Gmail
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
    "failed addresses follow",             // Exim 3 "|---- Failed addresses follow: ----|"
    "incorrectly constructed", // Exim "contained one or more recipient addresses that were incorrectly constructed"
    "had delivery problems", // McAfee Email Gateway "--- The following addresses had delivery problems ---"
    "had permanent fatal errors", // Sendmail "----- The following addresses had permanent fatal errors -----"
    "undeliverable to",           // IMail Server "undeliverable to a@b"
    "wasn't able to deliver your message to", // qmail-send
    "to these recipients or groups", // Exchange 2010-2019: "Delivery has failed / is delayed to these recipients or groups:"
    // Localized notices (Exchange's translations, Exim and provider texts).
    "adresses suivantes",           // French "Les adresses suivantes ont échoué"
    "ces destinataires", // French Exchange "La remise à ces destinataires ou groupes a échoué"
    "destinataires suivants", // French
    "folgende empfänger", // German Exchange "Übermittlung an folgende Empfänger oder Gruppen ist fehlgeschlagen"
    "folgenden adressen", // German "Die folgenden Adressen sind fehlgeschlagen"
    "folgenden empfänger", // German
    "los siguientes destinatarios", // Spanish
    "i seguenti destinatari", // Italian
    "os seguintes destinatários", // Portuguese
    "volgende geadresseerden", // Dutch Exchange
    "нескольким получателям", // Russian "... одному или нескольким получателям:" (Mail.Ru)
    "следующим получателям", // Russian
    "以下のメールアドレスへの送信に失敗", // m-FILTER (Digital Arts)
    "送信できませんでした", // Japanese carriers: "以下のアドレスへメールを送信できませんでした"
    "送信に失敗しました", // Japanese carriers and filters
    "以下收件人",         // Chinese "...未能成功送达以下收件人："
    "收件人：",           // Chinese notices: "收件人： a@b" (the address on the line)
    "다음 수신자",        // Korean ("the following recipients")
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
    // The first match in the whole lowercase text (the one that ends first)
    // lies on the first line with a phrase (no phrase spans a line end):
    // only that line is searched for all its phrases.
    let Some(first) = set.find(text.lower.as_str()) else {
        return out;
    };
    let from = text.line_at(first.start());
    let Some((start, tail)) = (from..text.len()).find_map(|n| {
        let lower = text.lower(n);
        let mut best: Option<(usize, usize)> = None;
        for m in set.find_overlapping_iter(lower) {
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
        out.extend(candidate(m.as_str()));
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
            if let Some(a) = candidate(m.as_str()) {
                if !out.contains(&a) {
                    out.push(a);
                }
            }
        }
    }
    out
}

/// An address found in text as a recipient: lowercase, without the
/// sentence's full stop or the quotes around it (SmarterMail writes
/// `'a@b'`; the address pattern allows a quote in a local part). None for
/// a match inside a URL (`https://x.example/r?u=a@b` matches the pattern
/// from `//`): a local part with `/` or `?` is no mailbox anyone writes to.
fn candidate(found: &str) -> Option<String> {
    let a = found.trim_matches(|c| matches!(c, '.' | '\'' | '`' | '"'));
    let local = a.split('@').next().unwrap_or("");
    if local.is_empty() || local.contains(['/', '?']) {
        return None;
    }
    Some(a.to_lowercase())
}

/// True when a line starts with an address (`<a@b>:`, `a@b`, `* a@b`).
fn starts_with_address(l: &str) -> bool {
    // `find_address(t)` starting at 0, asked of the address pattern anchored
    // at the start: it fails on the first word that is no address instead
    // of searching the whole line.
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(&format!("^(?:{})", address_regex().as_str())).expect("valid regex")
    });
    let t = l.trim_start().trim_start_matches(['*', '-', '<', '"', ' ']);
    memchr::memchr(b'@', t.as_bytes()).is_some() && re.is_match(t)
}

/// Common separators after which the text is the returned message.
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

/// Where the first of `MARKERS` starts in a text, else its length.
fn cut_at_marker(text: &str) -> usize {
    static SET: Phrases = Phrases::new(MARKERS);
    SET.find(text).map_or(text.len(), |(at, _)| at)
}

/// `cut_at_marker` on the ASCII lowercase copy of the text: the same
/// offset (the markers are ASCII, matched ASCII-case-insensitively).
/// Every marker but the last is a run of dashes, a space and words, so
/// it holds "--- " where its dash run ends: the markers are tried only
/// there, found by memchr's SIMD search (an automaton for all of them
/// spent 5 instructions a byte, as most texts have dashes).
fn cut_at_marker_lower(lower: &str) -> usize {
    type Set = (
        Vec<String>,
        memchr::memmem::Finder<'static>,
        memchr::memmem::Finder<'static>,
    );
    static SET: OnceLock<Set> = OnceLock::new();
    let (dashed, other, dash_end) = SET.get_or_init(|| {
        let lower: Vec<String> = MARKERS.iter().map(|m| m.to_ascii_lowercase()).collect();
        let (other, dashed): (Vec<String>, Vec<String>) =
            lower.into_iter().partition(|m| !m.starts_with("---"));
        assert!(other.len() == 1, "one marker without dashes");
        let other = memchr::memmem::Finder::new(other[0].as_bytes()).into_owned();
        (dashed, other, memchr::memmem::Finder::new(b"--- "))
    });
    let b = lower.as_bytes();
    let mut best = other.find(b).unwrap_or(b.len());
    for q in dash_end.find_iter(b) {
        // A marker found from here starts at most 4 dashes before.
        if q > best + 4 {
            break;
        }
        for m in dashed {
            let run = m.bytes().take_while(|&c| c == b'-').count();
            if let Some(at) = (q + 3).checked_sub(run) {
                if at < best && b[at..].starts_with(m.as_bytes()) {
                    best = at;
                }
            }
        }
    }
    best
}

/// A line naming the sender ("From: a@b", "MAIL FROM: <a@b>", "Sender:")
/// in a summary of the returned message (Apache James, Verizon MMS).
fn is_sender_line(l: &str) -> bool {
    let t = l.trim_start().as_bytes();
    [
        "from:",
        "mail from:",
        "sender:",
        "reply-to:",
        "return-path:",
    ]
    .iter()
    .any(|p| t.len() >= p.len() && t[..p.len()].eq_ignore_ascii_case(p.as_bytes()))
}

/// A line naming the envelope recipient ("RCPT TO: a@b" in a summary of
/// the failed transaction, "--> RCPT To:<a@b>" in a transcript).
fn is_rcpt_line(l: &str) -> bool {
    let t = l.as_bytes();
    memchr::memchr_iter(b' ', t).any(|i| {
        i >= 4
            && t[i - 4..i].eq_ignore_ascii_case(b"rcpt")
            && t.get(i + 1..i + 4)
                .is_some_and(|w| w.eq_ignore_ascii_case(b"to:"))
    })
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
/// Facts about a line (a reply code? an address?) are computed on first
/// ask and kept, and each recipient's diagnostic is read once: the text
/// decoder and `finish` ask for the same ones.
pub struct Lines<'t> {
    /// The lines as written.
    pub lines: Vec<&'t str>,
    /// The lowercase text: `str::to_lowercase` of each line, the lines
    /// separated by line ends. No phrase or address holds a line end, so a
    /// match in it lies within one line; one search of it replaces a search
    /// per line.
    lower: String,
    /// Where each line's lowercase copy lies in `lower`.
    spans: Vec<(usize, usize)>,
    /// Per line, the facts asked so far (see `Lines::fact`).
    facts: Vec<Cell<u8>>,
    /// Whether a line may be a transcript's server answer (`<<<`).
    answers: bool,
    /// `diagnostic_for` results already read.
    diagnostics: RefCell<Vec<ReadDiagnostics>>,
}

/// `diagnostic_for` results for one list of other recipients: the list,
/// kept once (not once per recipient: a bounce naming 20,000 recipients
/// would hold 400 million copies), and the results by recipient.
type ReadDiagnostics = (Vec<String>, HashMap<String, Option<String>>);

/// `str::lines` of a text, collected: the line ends found by memchr's
/// SIMD search (the `char` searcher of `lines` costs more per line), each
/// line without its "\n" and then a "\r" before it.
fn split_lines(text: &str) -> Vec<&str> {
    let mut lines = Vec::with_capacity(text.len() / 40 + 1);
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', text.as_bytes()) {
        let line = &text[start..end];
        lines.push(line.strip_suffix('\r').unwrap_or(line));
        start = end + 1;
    }
    if start < text.len() {
        lines.push(&text[start..]);
    }
    lines
}

/// Line facts: each has a value bit and, above it, a bit saying it is known.
const HAS_CODE: u8 = 1 << 0; // `has_code` of the trimmed line
const HAS_REPLY: u8 = 1 << 2; // `find_reply_code` of the line
const IS_ERROR: u8 = 1 << 4; // `is_error_line`
const HAS_ADDRESS: u8 = 1 << 6; // `has_address`

/// A reply code or an enhanced status code in a line.
fn has_code(l: &str) -> bool {
    may_have_code(l)
        && (super::status::find_reply_code(l).is_some() || super::status::Status::find(l).is_some())
}

/// Both codes start with 2, 4 or 5: a text without these digits holds
/// neither (one SIMD scan instead of a test at every byte).
fn may_have_code(l: &str) -> bool {
    memchr::memchr3(b'2', b'4', b'5', l.as_bytes()).is_some()
}

impl<'t> Lines<'t> {
    /// Splits a text into lines.
    pub fn new(text: &'t str) -> Lines<'t> {
        let lower = if text.is_ascii() {
            text.to_ascii_lowercase()
        } else {
            String::new()
        };
        Lines::with_lower(text, lower)
    }

    /// The lines of `error_head_before(text, inline)`. The marker search
    /// runs on the lowercase copy the lines need anyway.
    pub fn error_head(text: &'t str, inline: Option<usize>) -> Lines<'t> {
        let cut = inline.unwrap_or(text.len());
        let head = text.get(..cut).unwrap_or(text);
        let mut lower = head.to_ascii_lowercase();
        let cut = cut_at_marker_lower(&lower);
        let head = match head.get(..cut) {
            Some(h) => {
                lower.truncate(cut);
                h
            }
            None => head,
        };
        Lines::with_lower(head, lower)
    }

    /// `lower` is the ASCII lowercase copy of an ASCII `text` (reused as the
    /// buffer otherwise).
    fn with_lower(text: &'t str, mut lower: String) -> Lines<'t> {
        let lines = split_lines(text);
        let spans: Vec<(usize, usize)> = if text.is_ascii() {
            // ASCII lowercase is `to_lowercase` here and keeps every
            // offset: the lines' own offsets.
            let base = text.as_ptr() as usize;
            lines
                .iter()
                .map(|l| {
                    let at = l.as_ptr() as usize - base;
                    (at, at + l.len())
                })
                .collect()
        } else {
            lower.clear();
            lines
                .iter()
                .map(|l| {
                    let at = lower.len();
                    lower.push_str(&l.to_lowercase());
                    let span = (at, lower.len());
                    lower.push('\n');
                    span
                })
                .collect()
        };
        Lines {
            facts: vec![Cell::new(0); lines.len()],
            answers: {
                static ANSWER: OnceLock<memchr::memmem::Finder<'static>> = OnceLock::new();
                let answer = ANSWER.get_or_init(|| memchr::memmem::Finder::new(b"<<<"));
                answer.find(text.as_bytes()).is_some()
            },
            lines,
            lower,
            spans,
            diagnostics: RefCell::new(Vec::new()),
        }
    }

    /// The number of lines.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// True when there is no line.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// `str::to_lowercase` of line `i`.
    pub fn lower(&self, i: usize) -> &str {
        let (a, b) = self.spans[i];
        &self.lower[a..b]
    }

    /// The line whose lowercase copy holds byte `at` of `lower`.
    fn line_at(&self, at: usize) -> usize {
        self.spans.partition_point(|s| s.0 <= at).saturating_sub(1)
    }

    /// The first line whose lowercase copy contains `needle`.
    fn first_naming(&self, needle: &memchr::memmem::Finder<'_>) -> Option<usize> {
        let n = needle.needle();
        if n.is_empty() || n.contains(&b'\n') || n.contains(&b'\r') {
            return (0..self.len()).find(|&i| needle.find(self.lower(i).as_bytes()).is_some());
        }
        needle
            .find(self.lower.as_bytes())
            .map(|at| self.line_at(at))
    }

    /// Fact `bit` of line `i`, computed by `test` on first ask.
    fn fact(&self, i: usize, bit: u8, test: impl FnOnce(&str) -> bool) -> bool {
        let known = self.facts[i].get();
        if known & (bit << 1) != 0 {
            return known & bit != 0;
        }
        let yes = test(self.lines[i]);
        self.facts[i].set(known | bit << 1 | if yes { bit } else { 0 });
        yes
    }

    /// `has_code` of line `i`, trimmed.
    fn has_code(&self, i: usize) -> bool {
        self.fact(i, HAS_CODE, |l| has_code(l.trim()))
    }

    /// A reply code in line `i`.
    fn has_reply(&self, i: usize) -> bool {
        self.fact(i, HAS_REPLY, |l| {
            may_have_code(l) && super::status::find_reply_code(l).is_some()
        })
    }

    /// `is_error_line` of line `i` (the same trimmed: no word has edge
    /// spaces). An ASCII line's lowercase copy is its ASCII lowercase, where
    /// a case-sensitive search finds the same words faster.
    fn is_error(&self, i: usize) -> bool {
        static SET: OnceLock<aho_corasick::AhoCorasick> = OnceLock::new();
        let lower = self.lower(i);
        self.fact(i, IS_ERROR, |l| {
            if l.is_ascii() {
                SET.get_or_init(|| {
                    // The cheap automaton to build, as for `Phrases`.
                    aho_corasick::AhoCorasickBuilder::new()
                        .kind(Some(aho_corasick::AhoCorasickKind::ContiguousNFA))
                        .build(ERROR_WORDS)
                        .expect("plain literals")
                })
                .is_match(lower)
            } else {
                is_error_line(l)
            }
        })
    }

    /// `has_address` of line `i` (the same trimmed).
    fn has_address(&self, i: usize) -> bool {
        self.fact(i, HAS_ADDRESS, has_address)
    }
}

/// The diagnostic for one recipient in a bounce text: the recipient's own
/// line when it says more than the address, then the lines that follow it
/// up to an empty line. When that paragraph holds no reply code, up to
/// three more paragraphs are read to reach one: Gmail, DragonFly and x3-style
/// notices put "Technical details" or "did not like our final DATA:" between
/// the address and the server's answer. Stops at another recipient of
/// `others`. Falls back to the first line anywhere with a reply code.
/// Read once per recipient and text: the text decoder and `finish` both ask.
pub fn diagnostic_for(text: &Lines<'_>, rcpt: &str, others: &[&str]) -> Option<String> {
    diagnostic_in(text, text.recipients_group(others), rcpt, others)
}

/// `diagnostic_for` with the cache group of `others` already known
/// (`Lines::recipients_group` of the same list): a loop over thousands of
/// recipients then compares the list once, not once per recipient.
pub fn diagnostic_in(
    text: &Lines<'_>,
    group: usize,
    rcpt: &str,
    others: &[&str],
) -> Option<String> {
    if let Some(d) = text.diagnostics.borrow()[group].1.get(rcpt) {
        return d.clone();
    }
    let d = read_diagnostic(text, rcpt, others);
    text.diagnostics.borrow_mut()[group]
        .1
        .insert(rcpt.to_string(), d.clone());
    d
}

impl Lines<'_> {
    /// The `diagnostic_for` cache group of a list of other recipients,
    /// made on first ask.
    pub fn recipients_group(&self, others: &[&str]) -> usize {
        let mut read = self.diagnostics.borrow_mut();
        let same =
            |o: &Vec<String>| o.len() == others.len() && o.iter().zip(others).all(|(a, b)| a == b);
        if let Some(g) = read.iter().position(|(o, _)| same(o)) {
            return g;
        }
        read.push((
            others.iter().map(|o| o.to_string()).collect(),
            HashMap::new(),
        ));
        read.len() - 1
    }
}

/// `diagnostic_for`, uncached. The diagnostic is a list of line numbers,
/// each line taken trimmed, so that line facts answer for its parts.
fn read_diagnostic(text: &Lines<'_>, rcpt: &str, others: &[&str]) -> Option<String> {
    let lines = &text.lines;
    // One searcher for the recipient, not one per line (`str::contains`
    // builds a Two-Way searcher on every call).
    let names_rcpt = memchr::memmem::Finder::new(rcpt.as_bytes());
    let names = |i: usize| names_rcpt.find(text.lower(i).as_bytes()).is_some();
    let pos = text.first_naming(&names_rcpt);
    let mut out: Vec<usize> = Vec::new();
    if let Some(p) = pos {
        // The lowercase line, trimmed, is the trimmed line lowercased;
        // without the recipient (`replace(rcpt, "")`).
        let own_lower = text.lower(p).trim();
        let mut rest = String::with_capacity(own_lower.len());
        let mut last = 0;
        if !rcpt.is_empty() {
            for at in names_rcpt.find_iter(own_lower.as_bytes()) {
                rest.push_str(&own_lower[last..at]);
                last = at + rcpt.len();
            }
        }
        rest.push_str(&own_lower[last..]);
        let own_taken = rest.trim_matches(|c: char| !c.is_alphanumeric()).len() > 8
            && (text.is_error(p) || text.has_code(p));
        if own_taken {
            out.push(p);
            // Sendmail's summary line ("554 <a@b>... Remote protocol error")
            // right after the server's answer in a transcript ("<<< 550
            // Insecure Mail Relay"): the answer is the cause.
            if let Some(q) = p
                .checked_sub(1)
                .filter(|&q| lines[q].trim().starts_with("<<<") && text.has_code(q))
            {
                out.push(q);
            }
        }
        let mut paragraph: Vec<usize> = Vec::new();
        let mut paragraphs = 0;
        let mut coded = out.iter().any(|&i| text.has_code(i));
        // The lines that continue the recipient's own line belong to it
        // (Postfix wraps "... said: 550\n    : User unknown (in reply to end
        // of DATA command)").
        let mut continued = own_taken;
        for i in (p + 1..text.len()).take(24) {
            let lower = text.lower(i);
            if others
                .iter()
                .any(|o| *o != rcpt && super::phrases::find(lower, o).is_some())
            {
                break;
            }
            if lines[i].trim().is_empty() {
                if paragraph.is_empty() {
                    continued = false;
                    continue;
                }
                let with_code = paragraph.iter().any(|&x| text.has_code(x));
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
            if text.has_address(i) && !names(i) && !text.is_error(i) {
                break;
            }
            paragraph.push(i);
        }
        if !paragraph.is_empty() && (out.is_empty() || !coded || continued) {
            out.append(&mut paragraph);
        }
        // Without a code anywhere, the first paragraph is all we trust.
        if !out.iter().any(|&i| text.has_code(i)) {
            out.truncate(out.len().min(4));
        }
    }
    if out.is_empty() {
        if let Some(i) = (0..text.len()).find(|&i| text.has_reply(i)) {
            out.push(i);
        }
    }
    // Lotus Notes puts the reason on the lines just before the address
    // ("------- Failure Reasons --------", "User not listed in public Name &
    // Address Book", "a@b"): with nothing after it, read upwards within
    // the paragraph, stopping at a separator or another address.
    if let (true, Some(p)) = (out.is_empty(), pos) {
        let above: Vec<usize> = (0..p)
            .rev()
            .take_while(|&i| {
                let l = lines[i].trim();
                !l.is_empty() && !l.starts_with("---") && !text.has_address(i)
            })
            .take(3)
            .collect();
        out.extend(above.into_iter().rev());
    }
    if out.is_empty() {
        return None;
    }
    let mut joined = String::new();
    for (n, &i) in out.iter().enumerate() {
        if n > 0 {
            joined.push(' ');
        }
        joined.push_str(lines[i].trim());
    }
    Some(joined)
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
    // Only a server's answer (`<<<`) can name the recipient's command:
    // without one the transcript decides nothing.
    if !text.answers {
        return None;
    }
    let names_rcpt = memchr::memmem::Finder::new(rcpt.as_bytes());
    for (i, l) in text.lines.iter().enumerate() {
        let full_lower = text.lower(i);
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
    fn lines_are_str_lines() {
        for t in [
            "",
            "a",
            "a\n",
            "a\r\nb",
            "a\r\n\r\nb\r",
            "\n\n",
            "x\ry\nz\r\n",
            "É\r\nß\n",
        ] {
            assert_eq!(split_lines(t), t.lines().collect::<Vec<_>>(), "{t:?}");
        }
    }

    #[test]
    fn diagnostic_cache_keeps_each_recipient_list_once() {
        // A text bounce listing 2,000 recipients (an X-Failed-Recipients
        // header or a DSN of 20,000 made the cache hold a copy of the whole
        // list per recipient: 22 GB, then the scan was killed).
        let n = 2000;
        let all: Vec<String> = (0..n).map(|i| format!("u{i}@example.org")).collect();
        let others: Vec<&str> = all.iter().map(String::as_str).collect();
        let text: String = all
            .iter()
            .map(|a| format!("<{a}>: host mx.example.org said: 550 5.1.1 user unknown\n"))
            .collect();
        let lines = Lines::new(&text);
        for (i, r) in others.iter().enumerate() {
            let d = diagnostic_for(&lines, r, &others);
            assert_eq!(d, read_diagnostic(&lines, r, &others));
            if i % 500 == 0 {
                // Asked again (as `finish` does): the cached result.
                assert_eq!(diagnostic_for(&lines, r, &others), d);
            }
        }
        // Another list of others is its own group.
        assert_eq!(
            diagnostic_for(&lines, others[0], &others[..1]),
            read_diagnostic(&lines, others[0], &others[..1])
        );
        let cache = lines.diagnostics.borrow();
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.iter().map(|(o, _)| o.len()).sum::<usize>(), n + 1);
        assert_eq!(cache[0].1.len(), n);
    }

    #[test]
    fn marker_cut_is_the_phrase_search() {
        for t in [
            "no marker here",
            "a\n------ This is a copy of the message, including headers\nx",
            "a\n-------- Original message --------\n",
            "a\n------- Original message -------\n",
            "x --- --- Below this line is a copy of the message.",
            "a\nORIGINAL MESSAGE HEADERS:\n------- Returned Message --------\n",
            "------- Returned Message --------",
            "-- ---- Unsent message follows -----",
            "é------ Returned message ------",
        ] {
            assert_eq!(
                cut_at_marker_lower(&t.to_ascii_lowercase()),
                cut_at_marker(t),
                "{t:?}"
            );
        }
    }

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
