//! Stage 3: a cheap look at the header block decides which messages deserve a
//! full MIME parse. Allocation-free: byte searches over borrowed slices.
//!
//! A message is *bounce-like* when its headers carry a machine signal (a
//! report content type, a daemon sender, an empty Return-Path,
//! `Auto-Submitted`, `X-Failed-Recipients`, auto-reply markers) or a
//! well-known bounce or auto-reply subject. A person forwarding or answering
//! a bounce ("Fwd: Undelivered Mail ...") has a subject but no machine signal
//! and stays ordinary. Being bounce-like only earns a parse: the decoders
//! decide whether it really is a bounce.

use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind};
use memchr::memmem;

use crate::message::RawMessage;

/// A phrase table searched ASCII-case-insensitively in one pass: the same
/// answer as `contains_ci` per phrase, which walked a value once per phrase.
pub struct AnyCi {
    list: &'static [&'static [u8]],
    automaton: OnceLock<AhoCorasick>,
}

impl AnyCi {
    pub const fn new(list: &'static [&'static [u8]]) -> AnyCi {
        AnyCi {
            list,
            automaton: OnceLock::new(),
        }
    }

    /// Does any phrase occur in `hay` (ASCII case ignored)?
    pub fn any_in(&self, hay: &[u8]) -> bool {
        self.automaton().is_match(hay)
    }

    fn automaton(&self) -> &AhoCorasick {
        self.automaton.get_or_init(|| {
            // A DFA: these run on a header value of every message, where a
            // DFA's search is the cheapest. Its build is the dearest of the
            // tables (~10 M instructions for the three), see `TABLES`.
            AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .kind(Some(AhoCorasickKind::DFA))
                .build(self.list)
                .expect("phrase tables are plain literals")
        })
    }
}

/// Builders of triage's phrase automata, largest first, for
/// [`crate::prepare_tables`].
pub(crate) const TABLES: [fn(); 3] = [
    || {
        BOUNCE_SUBJECT_SET.automaton();
    },
    || {
        AUTOREPLY_SUBJECT_SET.automaton();
    },
    || {
        DAEMON_SENDER_SET.automaton();
    },
];

static BOUNCE_SUBJECT_SET: AnyCi = AnyCi::new(BOUNCE_SUBJECTS);
/// `AUTOREPLY_SUBJECTS` as one automaton.
pub static AUTOREPLY_SUBJECT_SET: AnyCi = AnyCi::new(AUTOREPLY_SUBJECTS);
static DAEMON_SENDER_SET: AnyCi = AnyCi::new(DAEMON_SENDERS);

/// The header block is searched at most this far; a longer one is cut here
/// (and reported): no real header is this large, but junk can be.
pub const MAX_HEADER: usize = 1 << 20;

/// What triage tells the decoders about a bounce-like message.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Hints {
    /// `multipart/report` or a report part type in the top-level Content-Type.
    pub report: bool,
    /// `report-type=feedback-report` (RFC 5965 ARF).
    pub feedback: bool,
    /// Sender is MAILER-DAEMON, postmaster, "Mail Delivery System" and the like.
    pub daemon_sender: bool,
    /// `Return-Path: <>`.
    pub null_return_path: bool,
    /// `X-Failed-Recipients` (Exim and others).
    pub failed_recipients: bool,
    /// `Auto-Submitted: auto-replied` or X-Autoreply-style headers, or an
    /// auto-reply subject.
    pub autoreply: bool,
    /// `Auto-Submitted: auto-generated` (bounces, notifications).
    pub auto_generated: bool,
    /// The subject reads like a bounce.
    pub bounce_subject: bool,
    /// The subject starts like a forward or reply (`Fwd:`, `Re:`, `転送:`).
    pub forward_or_reply: bool,
    /// `X-MS-Exchange-Message-Is-Ndr`: Exchange says this is its
    /// non-delivery report (it also marks those `Auto-Submitted:
    /// auto-replied`, like an out-of-office reply).
    pub ndr: bool,
}

impl Hints {
    /// True when the headers carry a signal only machines write.
    pub fn machine_signal(&self) -> bool {
        self.report
            || self.daemon_sender
            || self.null_return_path
            || self.failed_recipients
            || self.auto_generated
            || self.ndr
    }
}

/// The triage decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Triage {
    /// Not a bounce; only counted.
    Ordinary,
    /// The only signal could hide in an RFC 2047 encoded subject: decode the
    /// subject alone and ask `subject_is_bounce_like` before parsing.
    CheckSubject(Hints),
    /// Worth a full parse.
    BounceLike(Hints),
}

/// Header values the aggregate stage wants from every message, borrowed.
#[derive(Debug, Default, Clone, Copy)]
pub struct HeaderFacts<'a> {
    pub from: Option<&'a [u8]>,
    pub to: Option<&'a [u8]>,
    pub delivered_to: Option<&'a [u8]>,
    pub x_original_to: Option<&'a [u8]>,
    pub message_id: Option<&'a [u8]>,
    pub subject: Option<&'a [u8]>,
    pub date: Option<&'a [u8]>,
    /// The header block had no end within `MAX_HEADER` (or the message ended in it).
    pub header_unterminated: bool,
    /// Number of header fields seen.
    pub fields: u32,
}

/// Header blocks of more fields than this are walked again by the MIME
/// reader (their layout is not kept): few real ones are that long.
const LAYOUT_FIELDS: usize = 64;

/// Where the top-level header fields of a message lie, as triage's walk
/// found them, so that the MIME reader (`parse::parse_with`) takes them over
/// instead of walking the block a second time. Kept only when the walk read
/// the block as the MIME reader reads it (see `Fields::clean`); offsets are
/// into the message bytes triage was given.
pub struct HeaderLayout {
    /// For each field, its colon and its end (after its last line end); a
    /// field starts where the one before it ends.
    fields: [(u32, u32); LAYOUT_FIELDS],
    len: usize,
    /// Where the body starts (after the empty line); None when the layout
    /// was not kept.
    body_at: Option<u32>,
}

impl HeaderLayout {
    pub const fn new() -> Self {
        HeaderLayout {
            fields: [(0, 0); LAYOUT_FIELDS],
            len: 0,
            body_at: None,
        }
    }

    /// The fields as (start, colon, end) offsets and where the body starts;
    /// None when the layout was not kept.
    pub fn fields(&self) -> Option<(impl Iterator<Item = (usize, usize, usize)> + '_, usize)> {
        let body_at = self.body_at? as usize;
        let mut start = 0;
        let fields = self.fields[..self.len].iter().map(move |&(colon, end)| {
            let field = (start, colon as usize, end as usize);
            start = end as usize;
            field
        });
        Some((fields, body_at))
    }
}

impl Default for HeaderLayout {
    fn default() -> Self {
        Self::new()
    }
}

/// The header block of a message (without the empty line) and whether it
/// was terminated by an empty line within `MAX_HEADER`.
pub fn header_block(msg: &[u8]) -> (&[u8], bool) {
    let limit = msg.len().min(MAX_HEADER);
    let head = &msg[..limit];
    // Which line end does the message use? Search for the common empty line
    // of that style first, then for the other style only before it: one pass
    // over the header, never over the body.
    let first_lf = memchr::memchr(b'\n', head);
    let end = match first_lf {
        None => memmem::find(head, b"\r\r").map(|a| a + 1),
        Some(i) => {
            let crlf = i > 0 && head[i - 1] == b'\r';
            // The searchers are built once: `memmem::find` would build one
            // per call, for every message.
            static FINDERS: OnceLock<[memmem::Finder<'static>; 2]> = OnceLock::new();
            let [lflf, crlfcrlf] = FINDERS
                .get_or_init(|| [memmem::Finder::new(b"\n\n"), memmem::Finder::new(b"\n\r\n")]);
            let (main, other) = if crlf {
                (crlfcrlf, lflf)
            } else {
                (lflf, crlfcrlf)
            };
            let a = main.find(head);
            let scope = &head[..a.map_or(head.len(), |a| a + main.needle().len())];
            let b = other.find(scope);
            match (a, b) {
                (Some(a), Some(b)) => Some(a.min(b) + 1),
                (x, y) => x.or(y).map(|p| p + 1),
            }
        }
    };
    match end {
        Some(e) => (&msg[..e], true),
        None => (head, false),
    }
}

/// Iterates over header fields: (name, raw value with continuation lines).
pub struct Fields<'a> {
    rest: &'a [u8],
    /// The length of what is walked (of the header block, once the walk
    /// met its end).
    len: usize,
    /// The byte that ended the previous line (0 before the first line).
    last: u8,
    /// Which empty line ends the walk (for a message).
    stop: Stop,
    /// Set when the walk met the empty line that ends the header block.
    terminated: bool,
    /// False once the walk met anything the MIME reader (`parse`) reads
    /// differently: a line it skipped (no colon, a blank in the name), a
    /// field that needed the general rule, a line ending in a CR alone.
    clean: bool,
}

/// How a walk finds the end of the header block.
#[derive(Clone, Copy, PartialEq)]
enum Stop {
    /// The slice is the header block: walk all of it.
    AtEnd,
    /// A line starting `\n` or `\r\n` right after a line feed (the
    /// `\n\n` or `\n\r\n` that `header_block` searches for).
    EmptyAfterLf,
    /// In mail with CR line ends only: a line starting `\r` after a `\r`.
    EmptyAfterCr,
}

/// The fields of a header block.
pub fn fields(block: &[u8]) -> Fields<'_> {
    Fields {
        rest: block,
        len: block.len(),
        last: 0,
        stop: Stop::AtEnd,
        terminated: false,
        clean: true,
    }
}

/// The fields of a message's header block, read in the same walk that finds
/// the block's end: `fields(header_block(msg).0)`, without searching the
/// header for its empty line first. `terminated` tells, once the walk is
/// done, what `header_block` tells with its `bool`.
pub fn message_fields(msg: &[u8]) -> Fields<'_> {
    let head = &msg[..msg.len().min(MAX_HEADER)];
    // The line end style decides which empty line ends the block, as in
    // `header_block`: CR alone only when the header has no line feed.
    let stop = if memchr::memchr(b'\n', head).is_some() {
        Stop::EmptyAfterLf
    } else {
        Stop::EmptyAfterCr
    };
    Fields {
        rest: head,
        len: head.len(),
        last: 0,
        stop,
        terminated: false,
        clean: true,
    }
}

impl Fields<'_> {
    /// Did the walk end at the empty line after the header block (rather
    /// than at the end of the message or of `MAX_HEADER`)? Known once the
    /// iterator has returned None.
    pub fn terminated(&self) -> bool {
        self.terminated
    }

    /// The length of the header block (without its empty line): the block
    /// `header_block` returns. Known once the iterator has returned None.
    pub fn block_len(&self) -> usize {
        self.len - self.rest.len()
    }

    /// Is the line at the start of `rest`, which starts with a line end,
    /// the empty line that ends the block? (Every such line comes to the
    /// top of `next`: it does not start with a blank, so no field's
    /// continuation reaches over it.)
    #[cold]
    fn at_empty_line(&self) -> bool {
        match self.stop {
            Stop::AtEnd => false,
            Stop::EmptyAfterLf => {
                self.last == b'\n' && (self.rest[0] == b'\n' || self.rest.get(..2) == Some(b"\r\n"))
            }
            Stop::EmptyAfterCr => self.last == b'\r' && self.rest[0] == b'\r',
        }
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = (&'a [u8], &'a [u8]);
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let first = *self.rest.first()?;
            if (first == b'\n' || first == b'\r') && self.at_empty_line() {
                self.terminated = true;
                self.len -= self.rest.len();
                self.rest = &[];
                return None;
            }
            // End of this physical line.
            let mut end = line_end(self.rest, 0);
            // Extend over continuation lines (start with space or tab).
            while end < self.rest.len() && matches!(self.rest[end], b' ' | b'\t') {
                // (A line ending in CR alone: see `clean`.)
                self.clean &= self.rest[end - 1] != b'\r';
                end = line_end(self.rest, end);
            }
            let field = &self.rest[..end];
            self.rest = &self.rest[end..];
            self.last = field[end - 1];
            self.clean &= self.last != b'\r';
            // The common field, `Name: value`, read in one pass over the
            // name; anything else (blanks in or around the name, no colon on
            // the first line) by the general rule below.
            let c = name_len(field);
            if c > 0 && field.get(c) == Some(&b':') {
                return Some((&field[..c], trim(&field[c + 1..])));
            }
            self.clean = false;
            let colon = match memchr::memchr(b':', field) {
                Some(c) => c,
                None => continue, // not a field (junk line); skip it
            };
            let name = trim(&field[..colon]);
            if name.is_empty() || name.iter().any(|&b| b == b' ' || b == b'\t') {
                continue;
            }
            return Some((name, trim(&field[colon + 1..])));
        }
    }
}

/// A byte of a field name that needs no trimming: printable, not a blank,
/// not the colon (RFC 5322 ftext).
#[inline]
fn is_name_byte(b: u8) -> bool {
    b > b' ' && b < 0x7f && b != b':'
}

/// The length of the run of name bytes (`is_name_byte`) at the start of
/// `s`. Every field of every header walked goes through here, so the name is
/// tested eight bytes at a time (a name is ~10 bytes: a byte loop spent ~10
/// instructions a byte); the tail shorter than eight bytes goes byte by byte.
#[inline]
pub(crate) fn name_len(s: &[u8]) -> usize {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    let mut i = 0;
    while let Some(chunk) = s.get(i..i + 8) {
        let x = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        // The high bit of a byte is set where the byte is below '!' (for a
        // byte below 0x80), above '~', or ':'. A borrow or carry can set it
        // in a byte after a flagged one too, never before the first: the
        // lowest flag is exact, and it is the only one read.
        let low = x.wrapping_sub(ONES * 0x21) & !x;
        let high = x.wrapping_add(ONES) | x;
        let y = x ^ (ONES * u64::from(b':'));
        let colon = y.wrapping_sub(ONES) & !y;
        let flags = (low | high | colon) & HIGH;
        if flags != 0 {
            return i + (flags.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    i + s[i..]
        .iter()
        .position(|&b| !is_name_byte(b))
        .unwrap_or(s.len() - i)
}

/// Index just after the line end of the line starting at `from`.
#[inline]
fn line_end(s: &[u8], from: usize) -> usize {
    match find_break(&s[from..]) {
        Some(i) => {
            let p = from + i;
            if s[p] == b'\r' && s.get(p + 1) == Some(&b'\n') {
                p + 2
            } else {
                p + 1
            }
        }
        None => s.len(),
    }
}

/// The first CR or LF in `s`: `memchr::memchr2`, with the searcher built
/// once. Every header line of every message is searched here, most of
/// them short, and `memchr2` spent about a third of such a search on
/// choosing the CPU's routine and setting up the needles at each call.
#[inline]
fn find_break(s: &[u8]) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    {
        use memchr::arch::x86_64::avx2::memchr::Two;
        static TWO: OnceLock<Option<Two>> = OnceLock::new();
        if let Some(two) = TWO.get_or_init(|| Two::new(b'\n', b'\r')) {
            return two.find(s);
        }
    }
    memchr::memchr2(b'\n', b'\r', s)
}

/// Trims ASCII white space (including line ends) from both ends.
pub fn trim(s: &[u8]) -> &[u8] {
    let a = s
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(s.len());
    let b = s
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(a, |i| i + 1);
    &s[a..b]
}

/// Case-insensitive substring test; `needle` must be lowercase ASCII or UTF-8
/// (non-ASCII bytes compare exactly).
pub fn contains_ci(hay: &[u8], needle: &[u8]) -> bool {
    if needle.is_empty() {
        return true;
    }
    if hay.len() < needle.len() {
        return false;
    }
    let first = needle[0];
    let upper = first.to_ascii_uppercase();
    let mut i = 0;
    while i + needle.len() <= hay.len() {
        let rest = &hay[i..hay.len() - needle.len() + 1];
        let j = if first == upper {
            memchr::memchr(first, rest)
        } else {
            memchr::memchr2(first, upper, rest)
        };
        let Some(j) = j else { return false };
        let at = i + j;
        if hay[at..at + needle.len()].eq_ignore_ascii_case(needle) {
            return true;
        }
        i = at + 1;
    }
    false
}

/// Subject phrases of bounces (lowercase). Sources: the default subjects of
/// Postfix, Exim, Sendmail, qmail, Exchange, Gmail, Yahoo, Lotus Notes,
/// Courier, Amazon SES, and Japanese carriers' UTF-8 forms.
const BOUNCE_SUBJECTS: &[&[u8]] = &[
    b"returned mail",                                // Sendmail
    b"undeliver",                // Postfix "Undelivered Mail", Exchange "Undeliverable"
    b"aws notification message", // Amazon SNS mail carrying SES bounce/complaint events
    b"delivery status",          // Gmail, Exchange "... Notification", McAfee "Delivery Status"
    b"mail delivery failed",     // Exim
    b"mail failed",              // Exim 3 "Mail failed, returning to sender"
    b"delivery failure",         // Gmail, Notes
    b"failure notice",           // qmail, Yahoo
    b"delivery has failed",      // Exchange 2003
    b"could not be delivered",   // various
    b"non remis",                // French Exchange
    b"nondeliverable",           // Exchange
    b"non-delivery",             // various
    b"nicht zustellbar",         // German Exchange
    b"unzustellbar",             // German Exchange "Unzustellbar: ..."
    b"no se puede entregar",     // Spanish Exchange
    b"non recapitabile",         // Italian Exchange
    b"onbestelbaar",             // Dutch Exchange
    b"n\xc3\xa3o \xc3\xa9 poss\xc3\xadvel entregar", // Portuguese Exchange "Não é possível entregar"
    b"no entregado",                                 // Spanish
    "无法投递".as_bytes(),                           // Chinese Exchange ("undeliverable")
    "退信".as_bytes(),         // Chinese providers ("returned mail": 163.com, QQ)
    "недоставлен".as_bytes(),  // Russian ("undelivered")
    "Недоставлен".as_bytes(),  // (ASCII case folding does not reach Cyrillic)
    "не доставлен".as_bytes(), // Russian ("not delivered")
    "Не доставлен".as_bytes(),
    b"returned to sender",                   // Postfix, Courier
    b"mail system error",                    // various
    b"delivery notification",                // Notes, Domino
    b"delivery failed",                      // various
    b"delayed mail",                         // Postfix delay notice
    b"delivery delayed",                     // various
    b"warning: could not send",              // Sendmail delay notice
    b"message not delivered",                // various
    b"mail could not be delivered",          // various
    b"returned message",                     // various
    b"delivery report",                      // various
    b"mail delivery",                        // Courier "Mail delivery failed"
    b"are not member",                       // fml "You a@b are not member (name ML)"
    b"\xe9\x85\x8d\xe4\xbf\xa1",             // 配信 (UTF-8)
    b"\xe4\xb8\x8d\xe9\x81\x94",             // 不達 (UTF-8)
    b"\xe3\x82\xa8\xe3\x83\xa9\xe3\x83\xbc", // エラー (UTF-8)
];

/// Subject phrases of feedback reports sent without an RFC 5965 report
/// part (lowercase).
const FEEDBACK_SUBJECTS: &[&[u8]] = &[
    b"complaint about message from", // Hotmail/Outlook.com JMRP: "complaint about message from 192.0.2.1"
];

/// Subject phrases of auto-replies (lowercase).
pub const AUTOREPLY_SUBJECTS: &[&[u8]] = &[
    b"out of office",               // Outlook, Exchange
    b"out of the office",           // various
    b"automatic reply",             // Outlook
    b"auto-reply",                  // various
    b"autoreply",                   // various
    b"auto reply",                  // various
    b"auto:",                       // Notes "AUTO: ... is out of the office"
    b"vacation",                    // Sieve vacation default subject
    b"away from",                   // various
    b"abwesenheit",                 // German Outlook
    b"r\xc3\xa9ponse automatique",  // French Outlook
    b"automatische antwort",        // German Outlook
    b"respuesta autom\xc3\xa1tica", // Spanish Outlook
    b"risposta automatica",         // Italian Outlook
    b"automatisch antwoord",        // Dutch Outlook
    b"resposta autom\xc3\xa1tica",  // Portuguese Outlook
    b"automatisk svar",             // Danish/Norwegian/Swedish Outlook
    b"automated reply",             // Sieve vacation scripts, helpdesks
    "自动回复".as_bytes(),          // Chinese (simplified)
    "自動回覆".as_bytes(),          // Chinese (traditional)
    "자동 응답".as_bytes(),         // Korean
    "Автоответ".as_bytes(),         // Russian
    "автоответ".as_bytes(),
    "不在".as_bytes(),
    "自動応答".as_bytes(),
    "自動返信".as_bytes(),
    "アドレス変更".as_bytes(),
    "アドレスが変わりました".as_bytes(),
    "メールアドレス変更".as_bytes(),
];

/// Local parts and display names that only mail systems send from.
const DAEMON_SENDERS: &[&[u8]] = &[
    b"mailer-daemon",
    b"mailer_daemon",
    b"postmaster",
    b"mail delivery system",
    b"mail delivery subsystem",
    b"mail administrator",
    b"mail-daemon",
    b"maildaemon",
    b"double-bounce",
    b"bounce@",
    b"bounces@",
    b"mdaemon",
    b"mailerdaemon",
    b"mail.delivery",
    b"post_master",       // Verizon, Apache James MMS gateways
    b"microsoftexchange", // Exchange's NDR sender "MicrosoftExchange329e71ec...@domain"
];

/// Looks at the header block of one message.
pub fn triage<'a>(msg: &RawMessage<'a>) -> (Triage, HeaderFacts<'a>) {
    triage_keeping(msg, &mut HeaderLayout::new())
}

/// `triage`, which also notes in `layout` where the header fields lie, for
/// the parse of a bounce-like message.
pub fn triage_keeping<'a>(
    msg: &RawMessage<'a>,
    layout: &mut HeaderLayout,
) -> (Triage, HeaderFacts<'a>) {
    let mut facts = HeaderFacts::default();
    let mut hints = Hints::default();
    let mut subject_signal = false;
    let mut encoded = false;
    let mut walk = message_fields(msg.bytes);
    layout.len = 0;
    layout.body_at = None;
    let mut start = 0;
    while let Some((name, value)) = walk.next() {
        facts.fields += 1;
        // (In a clean walk the fields follow each other, each name at the
        // start of its field; the offsets fit in u32 within `MAX_HEADER`.)
        let end = walk.block_len();
        if let Some(slot) = layout.fields.get_mut(layout.len) {
            *slot = ((start + name.len()) as u32, end as u32);
            layout.len += 1;
        }
        start = end;
        match name.len() {
            2 if name.eq_ignore_ascii_case(b"to") => facts.to = facts.to.or(Some(value)),
            4 if name.eq_ignore_ascii_case(b"from") => {
                facts.from = Some(value);
                // `From: <>` (the null path) is written only by mail systems (McAfee).
                hints.daemon_sender |= DAEMON_SENDER_SET.any_in(value) || trim(value) == b"<>";
            }
            4 if name.eq_ignore_ascii_case(b"date") => facts.date = Some(value),
            7 if name.eq_ignore_ascii_case(b"subject") => {
                facts.subject = Some(value);
                let s = strip_prefixes(value, &mut hints.forward_or_reply);
                hints.bounce_subject = BOUNCE_SUBJECT_SET.any_in(s);
                hints.feedback |= FEEDBACK_SUBJECTS.iter().any(|k| contains_ci(s, k));
                subject_signal = hints.bounce_subject || hints.feedback;
                hints.autoreply |= AUTOREPLY_SUBJECT_SET.any_in(s);
                // Encoded words (or raw 8-bit text) may hide a Japanese bounce
                // or auto-reply subject.
                // (A memchr for `=` and a look at the next byte: cheaper
                // than building a substring searcher per message.)
                encoded = !value.is_ascii()
                    || memchr::memchr_iter(b'=', value).any(|i| value.get(i + 1) == Some(&b'?'));
            }
            10 if name.eq_ignore_ascii_case(b"message-id") => facts.message_id = Some(value),
            11 if name.eq_ignore_ascii_case(b"return-path") => {
                let v = trim(value);
                hints.null_return_path |= v == b"<>" || v == b"< >";
            }
            11 if name.eq_ignore_ascii_case(b"x-autoreply") => hints.autoreply = true,
            12 if name.eq_ignore_ascii_case(b"content-type") => {
                // `message/feedback-report` is looked for only where
                // `feedback-report` is.
                let feedback = contains_ci(value, b"feedback-report");
                hints.report |= contains_ci(value, b"multipart/report")
                    || contains_ci(value, b"message/delivery-status")
                    || (feedback && contains_ci(value, b"message/feedback-report"));
                hints.feedback |= feedback;
            }
            12 if name.eq_ignore_ascii_case(b"delivered-to") => {
                facts.delivered_to = facts.delivered_to.or(Some(value))
            }
            13 if name.eq_ignore_ascii_case(b"x-autorespond") => hints.autoreply = true,
            13 if name.eq_ignore_ascii_case(b"x-original-to") => {
                facts.x_original_to = facts.x_original_to.or(Some(value))
            }
            14 if name.eq_ignore_ascii_case(b"auto-submitted") => {
                if contains_ci(value, b"auto-replied") {
                    hints.autoreply = true;
                } else if !value.eq_ignore_ascii_case(b"no") {
                    hints.auto_generated = true;
                }
            }
            10 if name.eq_ignore_ascii_case(b"precedence") => {
                hints.autoreply |= contains_ci(value, b"auto_reply");
            }
            19 if name.eq_ignore_ascii_case(b"x-failed-recipients") => {
                hints.failed_recipients = true
            }
            28 if name.eq_ignore_ascii_case(b"x-ms-exchange-message-is-ndr") => hints.ndr = true,
            _ => {}
        }
    }
    facts.header_unterminated = !walk.terminated();
    if walk.terminated() && walk.clean && facts.fields as usize <= LAYOUT_FIELDS {
        // The empty line is `\n` or `\r\n` (no CR alone in a clean walk).
        let at = walk.block_len();
        let empty = if msg.bytes[at] == b'\n' { 1 } else { 2 };
        layout.body_at = Some((at + empty) as u32);
    }
    let decision =
        if hints.machine_signal() || hints.autoreply || (subject_signal && !hints.forward_or_reply)
        {
            Triage::BounceLike(hints)
        } else if encoded {
            Triage::CheckSubject(hints)
        } else {
            Triage::Ordinary
        };
    (decision, facts)
}

/// Second look at a subject that was encoded, once decoded to text: the
/// same keyword tables as `triage`. Returns the hints to parse with, or None.
pub fn subject_is_bounce_like(decoded: &str, mut hints: Hints) -> Option<Hints> {
    let s = strip_prefixes(decoded.as_bytes(), &mut hints.forward_or_reply);
    hints.bounce_subject = BOUNCE_SUBJECT_SET.any_in(s);
    hints.autoreply |= AUTOREPLY_SUBJECT_SET.any_in(s);
    if hints.autoreply || (hints.bounce_subject && !hints.forward_or_reply) {
        Some(hints)
    } else {
        None
    }
}

/// Reply and forward prefixes of subjects (lowercase).
const PREFIXES: &[&[u8]] = &[
    b"re:",
    b"fwd:",
    b"fw:",
    b"tr:",
    b"aw:",
    b"wg:",
    b"sv:",
    b"vs:",
    b"rv:",
    b"fwd :",
    "転送:".as_bytes(),
    "返信:".as_bytes(),
    "ＲＥ：".as_bytes(),
    "ＦＷ：".as_bytes(),
];

/// Strips leading `Re:`/`Fwd:`-style prefixes, noting whether one was there.
fn strip_prefixes<'a>(mut s: &'a [u8], found: &mut bool) -> &'a [u8] {
    loop {
        s = trim(s);
        // Every prefix ends with `:` or `：` (bytes EF BC 9A) within its
        // first 9 bytes: a subject without one there needs no comparisons.
        if !s.iter().take(9).any(|&b| b == b':' || b == 0x9a) {
            return s;
        }
        match PREFIXES
            .iter()
            .find(|p| s.len() >= p.len() && s[..p.len()].eq_ignore_ascii_case(p))
        {
            Some(p) => {
                *found = true;
                s = &s[p.len()..];
            }
            None => return s,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(msg: &[u8]) -> Triage {
        triage(&RawMessage {
            bytes: msg,
            offset: 0,
            index: 0,
        })
        .0
    }

    #[test]
    fn daemon_bounce_is_bounce_like() {
        let m = b"From: MAILER-DAEMON@mx.example.net (Mail Delivery System)\nSubject: Undelivered Mail Returned to Sender\nContent-Type: multipart/report; report-type=delivery-status;\n\tboundary=x\n\nbody";
        match t(m) {
            Triage::BounceLike(h) => assert!(h.report && h.daemon_sender && h.bounce_subject),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn exchange_ndrs_and_localized_subjects_are_bounce_like() {
        // Exchange marks its NDRs auto-replied, like an out-of-office reply;
        // its own header and its sender say what they are.
        match t(b"From: Microsoft Outlook\n <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@example.com>\nX-MS-Exchange-Message-Is-Ndr:\nSubject: Undeliverable: hours\nAuto-Submitted: auto-replied\n\nbody") {
            Triage::BounceLike(h) => assert!(h.ndr && h.daemon_sender && h.machine_signal()),
            other => panic!("{other:?}"),
        }
        // No Return-Path (an exported Exchange mailbox), a German subject.
        assert!(matches!(
            t(b"From: Kollege <k@example.com>\nSubject: Unzustellbar: Angebot\n\nbody"),
            Triage::BounceLike(h) if h.bounce_subject && !h.machine_signal()
        ));
        assert!(matches!(
            t("From: d@example.com\nSubject: Automatische Antwort: Angebot\n\nbody".as_bytes()),
            Triage::BounceLike(h) if h.autoreply
        ));
        assert!(matches!(
            t("From: d@example.com\nSubject: Недоставленное сообщение\n\nbody".as_bytes()),
            Triage::BounceLike(h) if h.bounce_subject
        ));
    }

    #[test]
    fn ordinary_and_forwarded_are_not() {
        assert_eq!(
            t(b"From: a@b.example\nSubject: lunch\n\nMAILER-DAEMON said hi\n"),
            Triage::Ordinary
        );
        assert_eq!(t(b"From: boss@b.example\nSubject: Fwd: Undelivered Mail Returned to Sender\n\n> from MAILER-DAEMON\n"), Triage::Ordinary);
        assert_eq!(
            t(b"From: boss@b.example\nSubject: Re: Undeliverable: invoice\n\nhi\n"),
            Triage::Ordinary
        );
    }

    #[test]
    fn autoreply_headers_and_crlf_and_cr() {
        assert!(
            matches!(t(b"From: x@y\r\nAuto-Submitted: auto-replied\r\nSubject: hi\r\n\r\nbody"), Triage::BounceLike(h) if h.autoreply)
        );
        assert!(
            matches!(t(b"From: x@y\rSubject: Out of Office: hi\r\rbody"), Triage::BounceLike(h) if h.autoreply)
        );
        assert_eq!(
            t(b"From: x@y\nAuto-Submitted: no\nSubject: hi\n\nbody"),
            Triage::Ordinary
        );
    }

    #[test]
    fn header_block_ends() {
        assert_eq!(
            header_block(b"A: 1\nB: 2\n\nbody"),
            (&b"A: 1\nB: 2\n"[..], true)
        );
        assert_eq!(
            header_block(b"A: 1\r\nB: 2\r\n\r\nbody"),
            (&b"A: 1\r\nB: 2\r\n"[..], true)
        );
        assert_eq!(
            header_block(b"A: 1\rB: 2\r\rbody"),
            (&b"A: 1\rB: 2\r"[..], true)
        );
        assert!(!header_block(b"A: 1\nB: 2").1);
    }

    #[test]
    fn message_fields_walk_the_header_block() {
        let same = |msg: &[u8]| {
            let (block, complete) = header_block(msg);
            let mut walk = message_fields(msg);
            let got: Vec<_> = (&mut walk).collect();
            let want: Vec<_> = fields(block).collect();
            assert_eq!(got, want, "{:?}", String::from_utf8_lossy(msg));
            assert_eq!(
                walk.terminated(),
                complete,
                "{:?}",
                String::from_utf8_lossy(msg)
            );
            assert_eq!(walk.block_len(), block.len(), "{msg:?}");
        };
        for m in [
            &b"A: 1\nB: 2\n\nbody\nC: 3\n"[..],
            b"A: 1\r\nB: 2\r\n\r\nC: 3",
            b"A: 1\rB: 2\r\rC: 3",
            b"\n\nA: 1\n",
            b"\r\n\r\nA: 1",
            b"\r\rA: 1\r",
            b"A: 1\r\rB: 2\n\nC: 3",
            b"A: 1\n \n\nC: 3",
            b"A: 1\n\r",
            b"A: 1\n",
            b"",
        ] {
            same(m);
        }
        // Random mixes of line ends, blanks and colons.
        let mut seed = 0x2545_f491_u32;
        for _ in 0..20_000 {
            let len = (seed % 24) as usize;
            let msg: Vec<u8> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 17;
                    seed ^= seed << 5;
                    b"A:\r\n \t:b\n"[(seed % 9) as usize]
                })
                .collect();
            same(&msg);
        }
    }

    #[test]
    fn fields_agree_with_the_general_rule() {
        // The old reading: the first colon of the field, the name trimmed,
        // fields whose name is empty or holds a blank skipped.
        fn general(block: &[u8]) -> Vec<(&[u8], &[u8])> {
            let mut out = Vec::new();
            let mut rest = block;
            while !rest.is_empty() {
                let mut end = line_end(rest, 0);
                while end < rest.len() && matches!(rest[end], b' ' | b'\t') {
                    end = line_end(rest, end);
                }
                let field = &rest[..end];
                rest = &rest[end..];
                let Some(colon) = memchr::memchr(b':', field) else {
                    continue;
                };
                let name = trim(&field[..colon]);
                if name.is_empty() || name.iter().any(|&b| b == b' ' || b == b'\t') {
                    continue;
                }
                out.push((name, trim(&field[colon + 1..])));
            }
            out
        }
        let pieces: &[&[u8]] = &[
            b"A",
            b"b-c",
            b":",
            b" ",
            b"\t",
            b"\r",
            b"\n",
            b"\r\n",
            b"\x0c",
            b"\xc3\xa9",
            b"\x7f",
            b"\x01",
        ];
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..40_000 {
            let mut block = Vec::new();
            for _ in 0..(state % 30) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                block.extend_from_slice(pieces[(state % pieces.len() as u64) as usize]);
            }
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            assert_eq!(
                fields(&block).collect::<Vec<_>>(),
                general(&block),
                "{block:?}"
            );
        }
    }

    #[test]
    fn name_len_is_the_byte_rule() {
        for b in 0..=255u8 {
            for at in 0..20 {
                for len in at..21 {
                    let mut s = vec![b'x'; len];
                    if at < len {
                        s[at] = b;
                    }
                    let want = s.iter().position(|&c| !is_name_byte(c)).unwrap_or(len);
                    assert_eq!(name_len(&s), want, "{s:?}");
                    // Bytes after the first non-name byte change nothing.
                    s.extend_from_slice(b"\xff\x00: ");
                    let want = s.iter().position(|&c| !is_name_byte(c)).unwrap();
                    assert_eq!(name_len(&s), want, "{s:?}");
                }
            }
        }
    }

    #[test]
    fn folded_fields() {
        let f: Vec<_> = fields(b"A: 1\n  2\nB:3\njunk line\nC : x\n").collect();
        assert_eq!(
            f,
            vec![
                (&b"A"[..], &b"1\n  2"[..]),
                (&b"B"[..], &b"3"[..]),
                (&b"C"[..], &b"x"[..])
            ]
        );
    }

    #[test]
    fn every_prefix_ends_in_a_colon_within_9_bytes() {
        // `strip_prefixes` skips its comparisons on this.
        for p in PREFIXES {
            assert!(p.len() <= 9 && (p.ends_with(b":") || p.ends_with("：".as_bytes())));
        }
        let mut found = false;
        assert_eq!(
            strip_prefixes(" Re: FWD :AW: x".as_bytes(), &mut found),
            b"x"
        );
        assert!(found);
        let mut found = false;
        assert_eq!(strip_prefixes("ＲＥ：転送: y".as_bytes(), &mut found), b"y");
        assert!(found);
    }

    #[test]
    fn contains_ci_works() {
        assert!(contains_ci(b"Multipart/Report; x", b"multipart/report"));
        assert!(!contains_ci(b"multipart/mixed", b"multipart/report"));
        assert!(contains_ci(b"xxMAILER-daemon", b"mailer-daemon"));
    }
}
