//! The last resort: a bounce in free text from an MTA no family decoder
//! knows. Finds the failed recipients (X-Failed-Recipients, or addresses on
//! lines of the error part of the text) and the diagnostic lines near them.
//! Runs only on messages with a machine signal, so a person's mail that
//! mentions an address is never taken for a bounce.

use regex::Regex;
use std::borrow::Cow;
use std::cell::{Cell, OnceCell, RefCell};
// foldhash: these maps and sets are asked for lookups only (never
// iterated), and SipHash cost more than the rest of a cache hit.
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use std::rc::Rc;
use std::sync::OnceLock;

use super::dsn::clean_address;
use super::phrases::{trim, Phrases};
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
        let lines = head.lines();
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
            // The addresses taken so far, for the duplicate test: a text
            // listing 100,000 addresses compared each with all before it.
            let mut taken: HashSet<String> = HashSet::new();
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
                        || taken.contains(&addr)
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
                        taken.insert(addr.clone());
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
        // search of it can use the SIMD search of `Literals`.
        static DELAY_SET: Literals = Literals::new(DELAYED);
        if DELAY_SET.find(&head.lower).is_some() {
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

/// Words of the SMTP command phrases (`status::COMMAND_WORDS`): each
/// phrase holds one of them, without a space (see
/// `Lines::may_name_command`). The rarest word of each phrase, in
/// notices that name no command ("rejected" before "sender", which many
/// notices address).
const COMMAND_ANCHORS: &[&str] = &[
    ">>>",       // Sendmail transcript
    "after",     // Exim, GMX
    "command",   // Postfix, GMX, unnamed MTA
    "smtp:rcpt", // unnamed MTA
    "[rcpt_to]", // Yahoo
    "like",      // qmail-remote, DragonFly dma
    "rejected",  // qmail-remote "sender was rejected"
];

/// Literals searched case-sensitively in one pass: the packed (Teddy) SIMD
/// searcher when the CPU and the set allow it, else a contiguous NFA (the
/// automaton cheapest to build). Built on first use, the automaton only
/// when there is no packed searcher (building it for every set cost more
/// than 1.8 M instructions at startup, for nothing on most CPUs).
struct Literals {
    words: &'static [&'static str],
    searcher: OnceLock<Searcher>,
}

/// The one searcher a `Literals` uses.
enum Searcher {
    Packed(aho_corasick::packed::Searcher),
    Automaton(aho_corasick::AhoCorasick),
}

impl Literals {
    const fn new(words: &'static [&'static str]) -> Literals {
        Literals {
            words,
            searcher: OnceLock::new(),
        }
    }

    /// A match in `hay`: its start and the index of its literal. Teddy
    /// gives the leftmost match, the automaton the one that ends first: a
    /// caller must not depend on which of overlapping matches it gets.
    fn find(&self, hay: &str) -> Option<(usize, usize)> {
        let searcher =
            self.searcher
                .get_or_init(|| match aho_corasick::packed::Searcher::new(self.words) {
                    Some(p) => Searcher::Packed(p),
                    None => Searcher::Automaton(
                        aho_corasick::AhoCorasickBuilder::new()
                            .kind(Some(aho_corasick::AhoCorasickKind::ContiguousNFA))
                            .build(self.words)
                            .expect("plain literals"),
                    ),
                });
        let m = match searcher {
            Searcher::Packed(p) => p.find(hay),
            Searcher::Automaton(a) => a.find(hay),
        };
        m.map(|m| (m.start(), m.pattern().as_usize()))
    }
}

/// Addresses listed after an intro sentence (`INTROS`): every later line
/// of the error text that starts with an address (`<a@b>:` of qmail,
/// `  a@b` of Exim, `* a@b`); an address inside a diagnostic sentence is not
/// taken. Returns lowercase addresses in order.
fn introduced_recipients(text: &Lines<'_>) -> Vec<String> {
    let lines = text.lines();
    let mut out: Vec<String> = Vec::new();
    // The phrase earliest in the table wins, at its first occurrence in
    // the first line that holds a phrase.
    // The text is searched whole, and most of it holds no phrase.
    static SET: Literals = Literals::new(INTROS);
    // Any match in the whole lowercase text (the leftmost one, or the one
    // that ends first) lies on that line (no phrase spans a line end), and
    // its phrase is on it: the winner is that phrase or one before it in
    // the table, so only those few are searched for, in that line alone
    // (an overlapping automaton pass over the line cost more).
    let Some((at, phrase)) = SET.find(&text.lower) else {
        return out;
    };
    let start = text.line_at(at);
    let lower = text.lower(start);
    let Some(end) = INTROS[..=phrase]
        .iter()
        .find_map(|p| super::phrases::find(lower, p).map(|at| at + p.len()))
    else {
        return out;
    };
    let tail = lower.get(end..).unwrap_or("");
    // "undeliverable to a@b": the address on the intro line itself.
    if let Some(m) = find_address(tail) {
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
        // A transcript line after a time stamp ("10:20:01.280: --> MAIL
        // From:<a@b>", MDaemon): the argument of MAIL FROM is the sender.
        || t.windows(10).any(|w| w.eq_ignore_ascii_case(b"mail from:"))
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
    /// The text, lines and line ends.
    text: &'t str,
    /// The lowercase text: `str::to_lowercase` of each line, the lines
    /// separated by line ends. No phrase or address holds a line end, so a
    /// match in it lies within one line; one search of it replaces a search
    /// per line.
    lower: String,
    /// The lines and what is kept per line, split on first ask: many
    /// reports' texts are only searched whole (`may_name_command`).
    split: OnceCell<Split<'t>>,
    /// Whether a line may be a transcript's server answer (`<<<`).
    answers: bool,
    /// `diagnostic_for` results already read.
    diagnostics: RefCell<Vec<ReadDiagnostics>>,
    /// The first line with a reply code (`has_reply`), searched once: every
    /// recipient the text does not name falls back to it.
    first_reply: OnceCell<Option<usize>>,
    /// The lines where a Sendmail transcript decides a recipient's command
    /// (`Lines::transcript`), found once.
    transcript: OnceCell<Vec<(usize, Option<SmtpCommand>)>>,
}

/// The per-line views of `Lines`.
struct Split<'t> {
    /// The lines as written.
    lines: Vec<&'t str>,
    /// Where the text starts in memory: an ASCII line's lowercase copy
    /// lies at the line's own offset in it.
    base: usize,
    /// Where each line's lowercase copy lies in `lower`, when that is not
    /// at the line's own offset (a non-ASCII text's).
    spans: Option<Vec<(usize, usize)>>,
    /// Per line, the facts asked so far (see `Lines::fact`).
    facts: Vec<Cell<u8>>,
}

impl<'t> Split<'t> {
    /// The lines of an ASCII `text`, whose lowercase copy keeps every
    /// offset: the lines' own offsets are their copies' (no spans kept).
    fn ascii(text: &'t str) -> Split<'t> {
        Split::new(text, split_lines(text), None)
    }

    fn new(text: &'t str, lines: Vec<&'t str>, spans: Option<Vec<(usize, usize)>>) -> Split<'t> {
        Split {
            facts: vec![Cell::new(0); lines.len()],
            lines,
            base: text.as_ptr() as usize,
            spans,
        }
    }

    /// The offset of `line` (one of `lines`) in the text.
    #[inline]
    fn offset(&self, line: &str) -> usize {
        line.as_ptr() as usize - self.base
    }

    /// Where line `i`'s lowercase copy lies in `lower`.
    #[inline]
    fn span(&self, i: usize) -> (usize, usize) {
        match &self.spans {
            Some(spans) => spans[i],
            None => {
                let l = self.lines[i];
                let at = self.offset(l);
                (at, at + l.len())
            }
        }
    }

    /// The first byte of line `i`'s lowercase copy, None past the last line.
    fn start(&self, i: usize) -> Option<usize> {
        match &self.spans {
            Some(spans) => spans.get(i).map(|s| s.0),
            None => self.lines.get(i).map(|l| self.offset(l)),
        }
    }

    /// The line whose lowercase copy holds byte `at` of `lower`.
    fn line_at(&self, at: usize) -> usize {
        match &self.spans {
            Some(spans) => spans.partition_point(|s| s.0 <= at),
            None => self.lines.partition_point(|l| self.offset(l) <= at),
        }
        .saturating_sub(1)
    }
}

/// `diagnostic_for` results for one list of other recipients.
struct ReadDiagnostics {
    /// The list, kept once (not once per recipient: a bounce naming 20,000
    /// recipients would hold 400 million copies).
    others: Vec<String>,
    /// The results by recipient.
    read: HashMap<String, Option<String>>,
    /// Where the text names the recipients of a long list (see `Names`).
    names: Option<Rc<Names>>,
}

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
/// A section banner of an MTA's text: a line that starts with a run of
/// three or more `-`, `=`, `*` or `_` (after an optional `|` or `#`), and
/// names no delivery target — Exim's `------ pipe to |/usr/bin/x ------`
/// and `------ a@b ------` head the text that concerns that target.
fn is_banner(l: &str) -> bool {
    let t = l
        .trim()
        .trim_start_matches(['|', '#'])
        .trim_end_matches('|');
    matches!(t.as_bytes(), [a, b, c, ..] if a == b && b == c && matches!(a, b'-' | b'=' | b'*' | b'_'))
        && !t.contains(['|', '@', '/'])
}

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
        let split = OnceCell::new();
        if !text.is_ascii() {
            // The lowercase copy is made line by line: the lines are
            // needed now.
            lower.clear();
            let lines = split_lines(text);
            let spans = lines
                .iter()
                .map(|l| {
                    let at = lower.len();
                    super::phrases::push_lowercase(&mut lower, l);
                    let span = (at, lower.len());
                    lower.push('\n');
                    span
                })
                .collect();
            let _ = split.set(Split::new(text, lines, Some(spans)));
        }
        Lines {
            answers: {
                static ANSWER: OnceLock<memchr::memmem::Finder<'static>> = OnceLock::new();
                let answer = ANSWER.get_or_init(|| memchr::memmem::Finder::new(b"<<<"));
                answer.find(text.as_bytes()).is_some()
            },
            text,
            lower,
            split,
            diagnostics: RefCell::new(Vec::new()),
            first_reply: OnceCell::new(),
            transcript: OnceCell::new(),
        }
    }

    /// The per-line views, split on first ask (an ASCII text's: a
    /// non-ASCII one's were split with its lowercase copy).
    #[inline]
    fn split(&self) -> &Split<'t> {
        // Asked per line in the loops of `read_diagnostic`: the check
        // inline, the split out of line.
        match self.split.get() {
            Some(s) => s,
            None => self.split_now(),
        }
    }

    #[cold]
    #[inline(never)]
    fn split_now(&self) -> &Split<'t> {
        self.split.get_or_init(|| Split::ascii(self.text))
    }

    /// The lines as written.
    #[inline]
    pub fn lines(&self) -> &[&'t str] {
        &self.split().lines
    }

    /// False when no recipient's SMTP command can be read in these lines
    /// (`transcript_command_for` and `SmtpCommand::find_ci` of any
    /// `diagnostic_for` would find none): there is no transcript answer
    /// (`<<<`), and no line holds a word every phrase of one of the
    /// command phrases holds (`COMMAND_ANCHORS`). A diagnostic joins
    /// trimmed lines with single spaces, so a phrase found in one has each
    /// of its words within one line, lowercased there as in `lower`.
    pub fn may_name_command(&self) -> bool {
        static SET: Literals = Literals::new(COMMAND_ANCHORS);
        self.answers || SET.find(&self.lower).is_some()
    }

    /// The number of lines.
    pub fn len(&self) -> usize {
        self.lines().len()
    }

    /// True when there is no line.
    pub fn is_empty(&self) -> bool {
        self.lines().is_empty()
    }

    /// `str::to_lowercase` of line `i`.
    #[inline]
    pub fn lower(&self, i: usize) -> &str {
        let (a, b) = self.split().span(i);
        &self.lower[a..b]
    }

    /// The lowercase text: each line's lowercase copy, the lines separated
    /// by line ends.
    pub fn lower_text(&self) -> &str {
        &self.lower
    }

    /// The line whose lowercase copy holds byte `at` of `lower`.
    fn line_at(&self, at: usize) -> usize {
        self.split().line_at(at)
    }

    /// The first line whose lowercase copy contains `needle`.
    fn first_naming(&self, needle: &Address<'_>) -> Option<usize> {
        self.first_naming_from(needle, 0)
    }

    /// The first line from line `from` on whose lowercase copy contains
    /// `needle`: one search of the lowercase text from that line's start
    /// (a match in it lies within one line), not one per line.
    fn first_naming_from(&self, needle: &Address<'_>, from: usize) -> Option<usize> {
        let n = needle.bytes;
        if n.is_empty() || n.contains(&b'\n') || n.contains(&b'\r') {
            return (from..self.len()).find(|&i| needle.find(self.lower(i).as_bytes()).is_some());
        }
        let start = self.split().start(from)?;
        needle
            .find_from(self.lower.as_bytes(), start)
            .map(|at| self.line_at(at))
    }

    /// Fact `bit` of line `i`, computed by `test` on first ask.
    fn fact(&self, i: usize, bit: u8, test: impl FnOnce(&str) -> bool) -> bool {
        let split = self.split();
        let known = split.facts[i].get();
        if known & (bit << 1) != 0 {
            return known & bit != 0;
        }
        let yes = test(split.lines[i]);
        split.facts[i].set(known | bit << 1 | if yes { bit } else { 0 });
        yes
    }

    /// `has_code` of line `i`, trimmed.
    fn has_code(&self, i: usize) -> bool {
        self.fact(i, HAS_CODE, |l| has_code(trim(l)))
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
        /// `Literals`' SIMD search: the words start with common letters,
        /// and an automaton's prefilter stopped so often that it spent 30
        /// instructions a byte.
        static SET: Literals = Literals::new(ERROR_WORDS);
        let lower = self.lower(i);
        self.fact(i, IS_ERROR, |l| {
            if l.is_ascii() {
                SET.find(lower).is_some()
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
    diagnostic_cached(text, group, rcpt, others, true)
}

/// `diagnostic_in` for the last asker, who asks once per recipient
/// (`bounce::finish`): a diagnostic read before (by the text decoder) is
/// taken from the cache, a new one is not stored there (the copies of the
/// recipient and the diagnostic would never be read).
pub fn diagnostic_last(
    text: &Lines<'_>,
    group: usize,
    rcpt: &str,
    others: &[&str],
) -> Option<String> {
    diagnostic_cached(text, group, rcpt, others, false)
}

/// The recipient's diagnostic from the cache of `group`, else read (and
/// stored when `store`).
fn diagnostic_cached(
    text: &Lines<'_>,
    group: usize,
    rcpt: &str,
    others: &[&str],
    store: bool,
) -> Option<String> {
    let names = {
        let groups = text.diagnostics.borrow();
        if let Some(d) = groups[group].read.get(rcpt) {
            return d.clone();
        }
        groups[group].names.clone()
    };
    let d = read_diagnostic(text, rcpt, others, names.as_deref());
    if store {
        text.diagnostics.borrow_mut()[group]
            .read
            .insert(rcpt.to_string(), d.clone());
    }
    d
}

impl Lines<'_> {
    /// The `diagnostic_for` cache group of a list of other recipients,
    /// made on first ask (with its `Names` index when the list is long).
    pub fn recipients_group(&self, others: &[&str]) -> usize {
        let same =
            |o: &Vec<String>| o.len() == others.len() && o.iter().zip(others).all(|(a, b)| a == b);
        if let Some(g) = self
            .diagnostics
            .borrow()
            .iter()
            .position(|g| same(&g.others))
        {
            return g;
        }
        let names = (others.len() > INDEX_FROM)
            .then(|| Names::new(self, others))
            .flatten()
            .map(Rc::new);
        let mut groups = self.diagnostics.borrow_mut();
        groups.push(ReadDiagnostics {
            others: others.iter().map(|o| o.to_string()).collect(),
            read: HashMap::new(),
            names,
        });
        groups.len() - 1
    }

    /// The first line with a reply code, searched once.
    fn first_reply(&self) -> Option<usize> {
        *self
            .first_reply
            .get_or_init(|| (0..self.len()).find(|&i| self.has_reply(i)))
    }
}

/// Recipient lists longer than this are looked up through a `Names` index.
/// Up to it, searching each line for each recipient costs less than
/// building the automaton (most bounces name one to three recipients).
const INDEX_FROM: usize = 16;

/// Which recipients of a list a line names.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Named {
    Nobody,
    /// One recipient, by its number in `Names::ids`.
    One(usize),
    /// Two different recipients or more.
    Several,
}

/// Where a text names the recipients of one list, found by one automaton
/// over all the recipients in one pass over the lines. Reading each
/// recipient's diagnostic searched the whole text for the recipient and
/// each line after it for every other recipient: a bounce listing 20,000
/// recipients took 10 s, 100,000 minutes (R² searches). The answers are
/// those of the searches they replace, substring for substring: the
/// automaton finds each recipient wherever `memmem` or `phrases::find`
/// would, in the same lowercase lines.
struct Names {
    /// Each distinct non-empty recipient of the list and its number.
    ids: HashMap<String, usize>,
    /// Whether the list holds the empty string, which every line names.
    empty: bool,
    /// Per recipient: the first line whose lowercase copy names it.
    first: Vec<Option<usize>>,
    /// Per line: the recipients its lowercase copy names.
    named: Vec<Named>,
    /// Per recipient: `transcript_command_for`, when the text has a
    /// transcript (`Lines::answers`).
    transcript: Vec<Option<Option<SmtpCommand>>>,
}

impl Names {
    /// The index of a list over a text; None if the automaton cannot be
    /// built (the callers then search as for a short list).
    fn new(text: &Lines<'_>, list: &[&str]) -> Option<Names> {
        use aho_corasick::automaton::Automaton;
        let mut ids: HashMap<String, usize> = HashMap::with_capacity(list.len());
        let mut patterns: Vec<&str> = Vec::with_capacity(list.len());
        let mut empty = false;
        for &r in list {
            if r.is_empty() {
                // An empty pattern would make every state a match state.
                empty = true;
            } else if !ids.contains_key(r) {
                ids.insert(r.to_string(), patterns.len());
                patterns.push(r);
            }
        }
        // A contiguous NFA: its match lists are arrays (the noncontiguous
        // one walks a linked list to reach a match's pattern). A DFA would
        // take 256 transitions a state, for as many states as there are
        // bytes in the list.
        let nfa = aho_corasick::nfa::contiguous::NFA::new(&patterns).ok()?;
        let start = nfa.start_state(aho_corasick::Anchored::No).ok()?;
        // Calls `hit` with the state at each position of `hay` where a
        // recipient ends (its patterns: the recipients that end there).
        let walk = |hay: &[u8], hit: &mut dyn FnMut(aho_corasick::automaton::StateID)| {
            let mut sid = start;
            for &b in hay {
                sid = nfa.next_state(aho_corasick::Anchored::No, sid, b);
                if nfa.is_match(sid) {
                    hit(sid);
                }
            }
        };
        // The first line naming each recipient. A state's recipients are
        // all recorded the first time it is reached: reaching it again
        // records none (a line of nested addresses, "a@b.example" in
        // "xa@b.example" and so on, would otherwise list them all again at
        // every position).
        let first_lines = |lines: &mut dyn Iterator<Item = (usize, Cow<'_, str>)>,
                           named: &mut dyn FnMut(usize, Named)| {
            let mut first: Vec<Option<usize>> = vec![None; patterns.len()];
            let mut reached: HashSet<aho_corasick::automaton::StateID> = HashSet::new();
            for (i, hay) in lines {
                let mut line = Named::Nobody;
                walk(hay.as_bytes(), &mut |sid| {
                    // The patterns of one state are different recipients:
                    // two of them are enough to say "several".
                    for k in 0..nfa.match_len(sid).min(2) {
                        let p = nfa.match_pattern(sid, k).as_usize();
                        line = match line {
                            Named::Nobody => Named::One(p),
                            Named::One(q) if q != p => Named::Several,
                            same => same,
                        };
                    }
                    if reached.insert(sid) {
                        for k in 0..nfa.match_len(sid) {
                            first[nfa.match_pattern(sid, k).as_usize()].get_or_insert(i);
                        }
                    }
                });
                named(i, line);
            }
            first
        };
        let mut named = vec![Named::Nobody; text.len()];
        let first = first_lines(
            &mut (0..text.len()).map(|i| (i, Cow::Borrowed(text.lower(i)))),
            &mut |i, n| named[i] = n,
        );
        // The transcript's deciding lines, searched as
        // `transcript_command_for` searches them.
        let transcript = if text.answers {
            let decides = text.transcript();
            let at: HashMap<usize, Option<SmtpCommand>> = decides.iter().copied().collect();
            first_lines(
                &mut decides.iter().map(|&(i, _)| (i, text.transcript_lower(i))),
                &mut |_, _| {},
            )
            .into_iter()
            .map(|line| line.and_then(|i| at.get(&i).copied()))
            .collect()
        } else {
            Vec::new()
        };
        Some(Names {
            ids,
            empty,
            first,
            named,
            transcript,
        })
    }

    /// Does line `i` name a recipient of the list other than `rcpt`?
    fn names_other(&self, i: usize, rcpt: &str) -> bool {
        if self.empty && !rcpt.is_empty() {
            return true;
        }
        match self.named[i] {
            Named::Nobody => false,
            Named::One(p) => self.ids.get(rcpt) != Some(&p),
            Named::Several => true,
        }
    }
}

/// A recipient searched for in lines and texts: `memmem` for a needle that
/// is searched once or twice per text, where building a `memmem::Finder`
/// cost more than the searches. The candidates are the needle's `@` (else
/// its first byte), found by memchr: an address has one, and most lines
/// none, so nearly every candidate is a match.
struct Address<'n> {
    bytes: &'n [u8],
    /// The byte searched for, and where it lies in the needle.
    anchor: usize,
}

impl<'n> Address<'n> {
    fn new(needle: &'n str) -> Address<'n> {
        let bytes = needle.as_bytes();
        Address {
            bytes,
            anchor: memchr::memchr(b'@', bytes).unwrap_or(0),
        }
    }

    /// `memmem::find`: the first occurrence in `hay`.
    fn find(&self, hay: &[u8]) -> Option<usize> {
        self.find_from(hay, 0)
    }

    /// The first occurrence starting at `from` or later.
    fn find_from(&self, hay: &[u8], from: usize) -> Option<usize> {
        let n = self.bytes;
        let Some(&a) = n.get(self.anchor) else {
            // The empty needle occurs everywhere.
            return (from <= hay.len()).then_some(from);
        };
        let k = self.anchor;
        let tail = hay.get(from + k..)?;
        memchr::memchr_iter(a, tail)
            .map(|i| from + i)
            .find(|&at| hay.get(at..at + n.len()) == Some(n))
    }

    /// `memmem::find_iter`: the occurrences that do not overlap, first to
    /// last.
    fn find_iter<'h>(&'h self, hay: &'h [u8]) -> impl Iterator<Item = usize> + 'h {
        let mut from = 0;
        std::iter::from_fn(move || {
            let at = self.find_from(hay, from)?;
            from = at + self.bytes.len().max(1);
            Some(at)
        })
    }
}

/// The length of a text given in pieces, trimmed of what is not
/// alphanumeric (`trim_matches(|c: char| !c.is_alphanumeric()).len()` of
/// the pieces joined): from the start of its first alphanumeric character
/// to the end of its last, without joining the pieces into a copy.
#[derive(Default)]
struct Alphanumeric {
    /// The length of the pieces so far.
    len: usize,
    /// Where the first alphanumeric character starts.
    first: Option<usize>,
    /// Where the last one so far ends.
    end: usize,
}

impl Alphanumeric {
    fn push(&mut self, piece: &str) {
        let alnum = |c: &(usize, char)| c.1.is_alphanumeric();
        if let Some((i, _)) = piece.char_indices().find(alnum) {
            self.first.get_or_insert(self.len + i);
            if let Some((j, c)) = piece.char_indices().rev().find(alnum) {
                self.end = self.len + j + c.len_utf8();
            }
        }
        self.len += piece.len();
    }

    fn len(&self) -> usize {
        self.first.map_or(0, |f| self.end - f)
    }
}

/// `diagnostic_for`, uncached. The diagnostic is a list of line numbers,
/// each line taken trimmed, so that line facts answer for its parts.
/// `index`, the `Names` of `others` if built, answers the searches for
/// recipients.
fn read_diagnostic(
    text: &Lines<'_>,
    rcpt: &str,
    others: &[&str],
    index: Option<&Names>,
) -> Option<String> {
    let lines = text.lines();
    // One searcher for the recipient, not one per line (`str::contains`
    // builds a Two-Way searcher on every call).
    let names_rcpt = Address::new(rcpt);
    let names = |i: usize| names_rcpt.find(text.lower(i).as_bytes()).is_some();
    let indexed = index.and_then(|n| Some((n, *n.ids.get(rcpt)?)));
    let pos = match indexed {
        Some((n, id)) => n.first[id],
        None => text.first_naming(&names_rcpt),
    };
    // Does line `i` name another recipient of `others`?
    let names_other = |i: usize| match index {
        Some(n) => n.names_other(i, rcpt),
        None => {
            let lower = text.lower(i);
            others
                .iter()
                .any(|o| *o != rcpt && super::phrases::find(lower, o).is_some())
        }
    };
    // What the text says from line `p` on: the line itself when it says
    // more than the address, then its paragraphs up to the first with a
    // code (at most four, and never into another recipient's).
    let read_from = |p: usize| -> Vec<usize> {
        // Room for a few lines: most readings take one to four.
        let mut out: Vec<usize> = Vec::with_capacity(8);
        // The lowercase line, trimmed, is the trimmed line lowercased;
        // without the recipient (`replace(rcpt, "")`).
        let own_lower = trim(text.lower(p));
        let mut last = 0;
        let mut rest = Alphanumeric::default();
        if !rcpt.is_empty() {
            for at in names_rcpt.find_iter(own_lower.as_bytes()) {
                rest.push(&own_lower[last..at]);
                last = at + rcpt.len();
            }
        }
        rest.push(&own_lower[last..]);
        let own_taken = rest.len() > 8 && (text.is_error(p) || text.has_code(p));
        if own_taken {
            out.push(p);
            // Sendmail's summary line ("554 <a@b>... Remote protocol error")
            // right after the server's answer in a transcript ("<<< 550
            // Insecure Mail Relay"): the answer is the cause.
            if let Some(q) = p
                .checked_sub(1)
                .filter(|&q| trim(lines[q]).starts_with("<<<") && text.has_code(q))
            {
                out.push(q);
            }
        }
        let mut paragraph: Vec<usize> = Vec::with_capacity(8);
        let mut paragraphs = 0;
        let mut coded = out.iter().any(|&i| text.has_code(i));
        // The lines that continue the recipient's own line belong to it
        // (Postfix wraps "... said: 550\n    : User unknown (in reply to end
        // of DATA command)").
        let mut continued = own_taken;
        for i in (p + 1..text.len()).take(24) {
            if names_other(i) {
                break;
            }
            // A banner (`----- Transcript of session follows -----`,
            // `|---- Message header follows ----|`, `*****`) says nothing of
            // the failure: before anything is read it is passed over, after
            // it the next section (often the returned message) begins.
            if is_banner(lines[i]) {
                if out.is_empty() && paragraph.is_empty() {
                    continue;
                }
                break;
            }
            if trim(lines[i]).is_empty() {
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
            // The recipient's own name first: a line naming it needs no
            // address pattern run over it.
            if !names(i) && text.has_address(i) && !text.is_error(i) {
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
        out
    };
    let mut out: Vec<usize> = pos.map(read_from).unwrap_or_default();
    // The first mention may be a summary, the codes under a later one
    // (Exchange's "Diagnostic information for administrators", a
    // transcript after a header echo): a later mention whose reading has
    // a code wins. Only for short lists (as long as no index is built): a
    // long one's index keeps each recipient's first line, and a search per
    // recipient would be quadratic again.
    if let (Some(p), true) = (pos, others.len() <= INDEX_FROM) {
        if !out.iter().any(|&i| text.has_code(i)) {
            // The lines after `p` that name the recipient.
            let mut next = p + 1;
            let later = std::iter::from_fn(|| {
                let i = text.first_naming_from(&names_rcpt, next)?;
                next = i + 1;
                Some(i)
            });
            if let Some(coded) = later
                .take(8)
                .map(read_from)
                .find(|o| o.iter().any(|&i| text.has_code(i)))
            {
                out = coded;
            }
        }
    }
    if out.is_empty() {
        if let Some(i) = text.first_reply() {
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
                let l = trim(lines[i]);
                !l.is_empty() && !l.starts_with("---") && !text.has_address(i)
            })
            .take(3)
            .collect();
        out.extend(above.into_iter().rev());
    }
    if out.is_empty() {
        return None;
    }
    // Sized once: pushed line by line, it grew several times.
    // (The untrimmed lengths: a few bytes too many, one `trim` per line
    // fewer.)
    let mut joined = String::with_capacity(out.iter().map(|&i| lines[i].len() + 1).sum());
    for (n, &i) in out.iter().enumerate() {
        if n > 0 {
            joined.push(' ');
        }
        joined.push_str(trim(lines[i]));
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
    let group = lines.recipients_group(others);
    if let Some(c) = transcript_command_for(lines, group, rcpt) {
        return c;
    }
    let paragraph = diagnostic_in(lines, group, rcpt, others)?;
    SmtpCommand::find_ci(&paragraph)
}

/// The transcript part of `command_for`: Some when a Sendmail transcript
/// decides (even when it decides "no command"), None to read the paragraph.
/// The first of the deciding lines (`Lines::transcript`) that names the
/// recipient decides; `group` (`Lines::recipients_group` of a list holding
/// the recipient) may know which one that is.
pub fn transcript_command_for(
    text: &Lines<'_>,
    group: usize,
    rcpt: &str,
) -> Option<Option<SmtpCommand>> {
    // Only a server's answer (`<<<`) can name the recipient's command:
    // without one the transcript decides nothing.
    if !text.answers {
        return None;
    }
    if let Some(n) = &text.diagnostics.borrow()[group].names {
        if let Some(&id) = n.ids.get(rcpt) {
            return n.transcript[id];
        }
    }
    let names_rcpt = Address::new(rcpt);
    text.transcript()
        .iter()
        .find(|&&(i, _)| {
            names_rcpt
                .find(text.transcript_lower(i).as_bytes())
                .is_some()
        })
        .map(|&(_, c)| c)
}

impl Lines<'_> {
    /// The lines of a Sendmail transcript where naming a recipient decides
    /// its command, with the command then decided. A transcript is read as
    /// a sequence of commands (`>>> `), answers (`<<< `) and other lines;
    /// a recipient is decided by the first of these lines to name it:
    /// - an answer: the command before it;
    /// - the first other line after an answer (Sendmail's summary line,
    ///   "554 <rcpt>... Remote protocol error"): the command before that
    ///   answer;
    ///
    /// except that when another answer follows before the next command (or
    /// "while talking to" line), the recipient's answer was to its RCPT TO
    /// (PIPELINING: see `command_for`). Found once for all recipients.
    fn transcript(&self) -> &[(usize, Option<SmtpCommand>)] {
        self.transcript.get_or_init(|| {
            let mut decides: Vec<(usize, Option<SmtpCommand>)> = Vec::new();
            // The deciding lines since the last command or answer: the next
            // one says whether an answer followed them.
            let mut open = 0;
            let mut last: Option<SmtpCommand> = None;
            let mut after_answer: Option<SmtpCommand> = None;
            for (i, l) in self.lines().iter().enumerate() {
                let lower = self.transcript_lower(i);
                if let Some(cmd) = lower.strip_prefix(">>>") {
                    open = decides.len();
                    last = transcript_command(cmd.trim());
                    after_answer = None;
                } else if lower.starts_with("<<<") {
                    for d in &mut decides[open..] {
                        d.1 = Some(SmtpCommand::Rcpt);
                    }
                    open = decides.len();
                    decides.push((i, last));
                    after_answer = last;
                } else if lower.starts_with("... while talking to")
                    || lower.starts_with("while talking to")
                {
                    open = decides.len();
                    last = None;
                    after_answer = None;
                } else if !l.trim_start().is_empty() {
                    if after_answer.is_some() {
                        decides.push((i, after_answer));
                    }
                    after_answer = None;
                }
            }
            decides
        })
    }

    /// Line `i` as the transcript reads it: trimmed at the start, ASCII
    /// lowercase (for an ASCII line, the shared lowercase copy, trimmed).
    fn transcript_lower(&self, i: usize) -> Cow<'_, str> {
        let l = self.lines()[i];
        if l.is_ascii() {
            Cow::Borrowed(self.lower(i).trim_start())
        } else {
            Cow::Owned(l.trim_start().to_ascii_lowercase())
        }
    }
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
    /// `Alphanumeric` measures the pieces joined and trimmed.
    #[test]
    fn alphanumeric_is_joined_and_trimmed() {
        for pieces in [
            &[][..],
            &[""],
            &["..."],
            &["<", ">: user unknown"],
            &["550 ", " ... ok"],
            &["-- ", "", " --"],
            &["é.", ".ß", "!"],
            &["x", "", "y"],
            &["  a", "   ", "b  ", "..."],
        ] {
            let mut a = super::Alphanumeric::default();
            for p in pieces {
                a.push(p);
            }
            let joined = pieces.concat();
            assert_eq!(
                a.len(),
                joined.trim_matches(|c: char| !c.is_alphanumeric()).len(),
                "{pieces:?}"
            );
        }
    }

    /// `Lines::may_name_command` answers for every command phrase.
    #[test]
    fn every_command_phrase_holds_an_anchor() {
        use super::super::status::{SmtpCommand, COMMAND_WORDS};
        for (phrase, _) in COMMAND_WORDS {
            assert!(
                super::COMMAND_ANCHORS
                    .iter()
                    .any(|a| !a.contains(' ') && phrase.contains(a)),
                "{phrase:?}"
            );
        }
        // The phrase split over lines and in capitals still counts.
        let text = "x: host said: 550 Unknown user (in reply to RCPT TO\n    COMMAND)\n";
        let lines = super::Lines::new(text);
        assert!(lines.may_name_command());
        let d = super::diagnostic_for(&lines, "x", &[]).unwrap();
        assert_eq!(SmtpCommand::find_ci(&d), Some(SmtpCommand::Rcpt));
        let lines = super::Lines::new("x: host said: 550 Unknown user\n");
        assert!(!lines.may_name_command());
        assert!(super::Lines::new("<<< 550 x\n").may_name_command());
    }

    #[test]
    fn banners_are_section_lines_that_name_no_target() {
        for l in [
            "----- Transcript of session follows -----",
            "|------------------------- Message header follows: ----------------------|",
            "--- Below this line is a copy of the message.",
            "  ========================",
            "*** End of message ***",
        ] {
            assert!(is_banner(l), "{l}");
        }
        for l in [
            "------ pipe to |/usr/local/bin/filter ------",
            "------ kijitora@example.com ------",
            "-- ",
            "550 5.1.1 user unknown",
            "-5 degrees",
        ] {
            assert!(!is_banner(l), "{l}");
        }
    }

    use super::*;

    #[test]
    fn address_candidates_and_line_kinds() {
        assert_eq!(
            candidate("'hank@example.jp'").as_deref(),
            Some("hank@example.jp")
        );
        assert_eq!(
            candidate("Bob@Example.org.").as_deref(),
            Some("bob@example.org")
        );
        assert_eq!(candidate("//x.example.com/r?u=taro@example.jp"), None);
        assert_eq!(candidate("'@example.jp"), None);
        assert!(is_rcpt_line("  RCPT TO: 0000@vtext.example.com"));
        assert!(is_rcpt_line(
            "10:20:01.280: --> RCPT To:<frank@example.org>"
        ));
        assert!(!is_rcpt_line("the recipient frank@example.org"));
        assert!(is_sender_line(
            "Tue 2026-11-03 10:20:01.280: --> MAIL From:<taro@example.jp> SIZE=1"
        ));
        assert!(is_sender_line("From: taro@example.jp"));
        assert!(!is_sender_line("<frank@example.org>: 550 5.1.1 unknown"));
    }
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
            assert_eq!(d, read_diagnostic(&lines, r, &others, None));
            if i % 500 == 0 {
                // Asked again (as `finish` does): the cached result.
                assert_eq!(diagnostic_for(&lines, r, &others), d);
            }
        }
        // Another list of others is its own group.
        assert_eq!(
            diagnostic_for(&lines, others[0], &others[..1]),
            read_diagnostic(&lines, others[0], &others[..1], None)
        );
        let cache = lines.diagnostics.borrow();
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.iter().map(|g| g.others.len()).sum::<usize>(), n + 1);
        assert_eq!(cache[0].read.len(), n);
    }

    /// `transcript_command_for` as it was before `Lines::transcript`: one
    /// walk over the lines per recipient. The reference the deciding lines
    /// and the `Names` index must agree with.
    fn transcript_reference(text: &Lines<'_>, rcpt: &str) -> Option<Option<SmtpCommand>> {
        let mut last: Option<SmtpCommand> = None;
        let mut pending: Option<Option<SmtpCommand>> = None;
        let mut after_answer: Option<SmtpCommand> = None;
        if !text.answers {
            return None;
        }
        for (i, l) in text.lines().iter().enumerate() {
            let t = l.trim_start();
            let lower = if l.is_ascii() {
                text.lower(i).trim_start().to_string()
            } else {
                t.to_ascii_lowercase()
            };
            let names = || lower.contains(rcpt);
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
            } else if lower.starts_with("... while talking to")
                || lower.starts_with("while talking to")
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

    /// A hostile recipient list: addresses that contain one another
    /// (`a7@x.example` in `ba7@x.example`), repeats, one in capitals (no
    /// lowercase line names it), one with a non-ASCII local part, and the
    /// empty string (named by every line).
    fn tangled_recipients(n: usize) -> Vec<String> {
        let mut list: Vec<String> = Vec::new();
        for i in 0..n {
            list.push(format!("a{i}@x.example"));
            if i % 3 == 0 {
                list.push(format!("ba{i}@x.example"));
            }
            if i % 50 == 0 {
                list.push(format!("a{i}@x.example"));
            }
        }
        list.push("UPPER@X.EXAMPLE".to_string());
        list.push("ü1@x.example".to_string());
        list.push(String::new());
        list
    }

    /// A text naming those recipients in the shapes bounces use, with
    /// transcripts, blank lines, codes and non-ASCII lines between.
    fn tangled_text(n: usize, seed: u64) -> String {
        let mut rng = crate::synth::Rng::new(seed);
        let mut text = String::new();
        for _ in 0..n * 3 {
            let r = format!(
                "{}a{}@x.example",
                if rng.chance(0.2) { "b" } else { "" },
                rng.below(n as u64 + 5)
            );
            let line = match rng.below(14) {
                0 => format!("<{r}>: host mx.x.example said: 550 5.1.1 user unknown"),
                1 => format!("  {r}"),
                2 => "    mailbox is full: quota exceeded".to_string(),
                3 => String::new(),
                4 => format!("{r} and a{}@x.example: 550 rejected", rng.below(n as u64)),
                5 => ">>> DATA".to_string(),
                6 => format!("<<< 550 5.1.1 <{r}>... User unknown"),
                7 => format!("554 5.0.0 <{r}>... Service unavailable"),
                8 => "... while talking to mx.x.example.:".to_string(),
                9 => ">>> RCPT To:<z@x.example>".to_string(),
                10 => format!("Ünknown user {r} (in reply to RCPT TO command)"),
                11 => "Delivery failed: 452 4.2.2 over quota".to_string(),
                12 => "ü1@x.example: Unzustellbar".to_string(),
                _ => format!("\t{}", r.to_uppercase()),
            };
            text.push_str(&line);
            text.push_str(if rng.chance(0.1) { "\r\n" } else { "\n" });
        }
        text
    }

    #[test]
    fn a_long_recipient_list_is_found_where_line_by_line_search_finds_it() {
        // 20,000 recipients took 10 s when each was searched for in every
        // line: the `Names` index answers the same, substring for substring.
        let list = tangled_recipients(400);
        let others: Vec<&str> = list.iter().map(String::as_str).collect();
        for seed in 1..4 {
            let text = tangled_text(400, seed);
            let lines = Lines::new(&text);
            let names = Names::new(&lines, &others).expect("the automaton builds");
            let group = lines.recipients_group(&others);
            assert!(lines.diagnostics.borrow()[group].names.is_some());
            let mut found = 0;
            for r in others
                .iter()
                .copied()
                .chain(["nobody@x.example", "a1@x.exam"])
            {
                let want = read_diagnostic(&lines, r, &others, None);
                assert_eq!(
                    read_diagnostic(&lines, r, &others, Some(&names)),
                    want,
                    "{r:?}"
                );
                found += usize::from(want.is_some());
                // The transcript's answer, through the index (the list's
                // group) and through the deciding lines (a group too short
                // for one), against the walk over every line.
                let reference = transcript_reference(&lines, r);
                assert_eq!(transcript_command_for(&lines, group, r), reference, "{r:?}");
                let alone = lines.recipients_group(&[r]);
                assert_eq!(transcript_command_for(&lines, alone, r), reference, "{r:?}");
            }
            assert!(found > 400, "{found} diagnostics");
        }
    }

    #[test]
    fn names_tells_one_recipient_from_several() {
        let text = "a@x.example\nba@x.example\nnone here\nb@x.example a@x.example\n";
        let lines = Lines::new(text);
        let names = Names::new(&lines, &["a@x.example", "ba@x.example", "b@x.example"]).unwrap();
        let a = names.ids["a@x.example"];
        assert_eq!(names.named[0], Named::One(a));
        // `ba@x.example` holds `a@x.example`: two recipients.
        assert_eq!(names.named[1], Named::Several);
        assert_eq!(names.named[2], Named::Nobody);
        assert_eq!(names.first, [Some(0), Some(1), Some(3)]);
        assert!(!names.names_other(0, "a@x.example"));
        assert!(names.names_other(0, "ba@x.example"));
        assert!(names.names_other(1, "a@x.example"));
        assert!(!names.names_other(2, "a@x.example"));
        // The empty string is named by every line.
        let names = Names::new(&lines, &["a@x.example", ""]).unwrap();
        assert!(names.names_other(2, "a@x.example"));
        assert!(!names.names_other(2, ""));
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
