//! Stage 5: a parsed bounce-like message → `Bounce`, or None.
//!
//! Decoders, one per MTA family or report type, implement one trait and are
//! listed once, in `DECODERS`. `detect` tries them in that order (report
//! types first when triage saw a report content type), each with a cheap
//! `sniff` before its `decode`; the RFC 3464 reader is the shared base and
//! the fallback, the generic text reader the last resort. After a decoder
//! succeeds, `finish` does what is common to all: recover the returned
//! original, derive missing codes from the diagnostic, classify the reason.

pub mod arf;
pub mod autoreply;
pub mod dsn;
pub mod mta;
pub mod phrases;
pub mod reason;
pub mod status;
pub mod text;
pub mod types;

/// Builders of the decoders' largest tables, for [`crate::prepare_tables`].
pub(crate) const TABLES: [fn(); 1] = [reason::prepare];

use foldhash::{HashSet, HashSetExt};
use std::borrow::Cow;
use std::cell::OnceCell;

use crate::original::{self, Original};
use crate::parse::{Parsed, Part};
use crate::triage::Hints;
use status::{find_reply_code, SmtpCommand, Status};
pub use types::{Action, Bounce, Failure, Kind, StatusSource};

/// One decoder of one family.
pub trait Decoder: Sync {
    /// The family name written in the outputs (`family` column).
    fn name(&self) -> &'static str;
    /// Cheap test: could this message be ours? (headers, a marker string)
    fn sniff(&self, input: &Input<'_, '_>) -> bool;
    /// Full decode; None when the message is not of this family after all.
    fn decode(&self, input: &Input<'_, '_>) -> Option<Bounce>;
}

/// Every decoder, in the order they are tried. The MTA families sit before
/// the generic RFC 3464 reader, so that a family's own knowledge (a better
/// recipient, its diagnostic wording) wins over the bare report fields.
pub const DECODERS: &[&dyn Decoder] = &[
    &arf::Arf,
    // MTA families: see bounce/mta/mod.rs.
    &mta::Families,
    &dsn::Rfc3464,
    &autoreply::AutoReply,
    &text::Text,
];

/// A parsed message with the views decoders share, computed once.
pub struct Input<'p, 'a> {
    pub parsed: &'p Parsed<'a>,
    pub hints: Hints,
    /// Decoded Subject of the bounce.
    pub subject: String,
    /// Decoded From of the bounce.
    pub from: String,
    status: OnceCell<Option<Cow<'a, str>>>,
    error_lines: OnceCell<text::Lines<'p>>,
    inline_original: OnceCell<Option<usize>>,
}

impl<'p, 'a> Input<'p, 'a> {
    /// Builds the shared views.
    pub fn new(parsed: &'p Parsed<'a>, hints: Hints) -> Self {
        Input {
            parsed,
            hints,
            subject: parsed.header("Subject").unwrap_or_default(),
            from: parsed.header("From").unwrap_or_default(),
            status: OnceCell::new(),
            error_lines: OnceCell::new(),
            inline_original: OnceCell::new(),
        }
    }

    /// The human-readable text of the bounce.
    pub fn text(&self) -> &str {
        self.parsed.text()
    }

    /// The lines of `text::error_head` of the text, with lowercase copies:
    /// split once, shared by the text decoder and `finish`.
    pub fn error_lines(&self) -> &text::Lines<'p> {
        self.error_lines
            .get_or_init(|| text::Lines::error_head(self.parsed.text(), self.inline_original_at()))
    }

    /// `original::find_inline` of the text, searched once: both the error
    /// head and the returned original need it.
    pub fn inline_original_at(&self) -> Option<usize> {
        *self
            .inline_original
            .get_or_init(|| original::find_inline(self.parsed.text().as_bytes()))
    }

    /// A top-level header of the bounce, decoded.
    pub fn header(&self, name: &str) -> Option<String> {
        self.parsed.header(name)
    }

    /// The body of the delivery-status part, if any (decoded once, shared).
    pub fn status_part(&self) -> Option<&str> {
        self.status
            .get_or_init(|| {
                if let Some(p) = self
                    .parsed
                    .part(&["message/delivery-status", "message/global-delivery-status"])
                {
                    return Some(p.text());
                }
                // Some generators send the report as text/plain inside
                // multipart/report. The type test comes first: it is cheap,
                // and most texts are not in a report.
                if self.parsed.mimetype() != "multipart/report" {
                    return None;
                }
                self.parsed
                    .leaves()
                    .filter(|p| p.mimetype == "text/plain")
                    .map(|p| p.text())
                    .find(|t| t.contains("Final-Recipient:") || t.contains("Final-recipient:"))
            })
            .as_deref()
    }

    /// The part holding the returned original (`message/rfc822`,
    /// `message/global`, `text/rfc822-headers`), if any.
    pub fn original_part(&self) -> Option<Part<'p, 'a>> {
        self.parsed.leaves().find(|p| {
            matches!(
                p.mimetype,
                "message/rfc822"
                    | "message/global"
                    | "text/rfc822-headers"
                    | "message/rfc822-headers"
                    | "text/rfc822-header"
                    | "message/partial"
            )
        })
    }
}

/// Tries the decoders on a parsed message.
pub fn detect(parsed: &Parsed<'_>, hints: Hints) -> Option<Bounce> {
    decode(&Input::new(parsed, hints))
}

/// Tries the decoders on a message whose shared views the caller keeps
/// (the scan reuses the decoded Subject and From for the rows).
pub fn decode(input: &Input<'_, '_>) -> Option<Bounce> {
    for d in DECODERS {
        if !d.sniff(input) {
            continue;
        }
        if let Some(b) = d.decode(input) {
            if !b.failures.is_empty() {
                return Some(finish(b, input));
            }
        }
    }
    None
}

/// What every decoded bounce gets, whatever its family.
fn finish(mut b: Bounce, input: &Input<'_, '_>) -> Bounce {
    if b.original.is_none() {
        b.original = returned_original(input);
    }
    let (kind, count) = (b.kind, b.failures.len());
    // The sender matters only to a bounce of several recipients (below):
    // cleaned only then.
    let sender = if kind != Kind::Autoreply && count > 1 {
        b.original.as_ref().and_then(Original::sender)
    } else {
        None
    };
    // The recipients kept so far (a set: a report of 20,000 recipients
    // compared each with all before it); a bounce of one recipient, as
    // most are, has none to compare.
    let mut seen: HashSet<String> = HashSet::new();
    b.failures.retain_mut(|f| {
        let bare = phrases::trim(&f.recipient).trim_matches(|c| c == '<' || c == '>');
        // Most recipients come cleaned and lowercase already (`clean_address`):
        // kept as they are, without a copy.
        if bare.len() != f.recipient.len()
            || bare
                .bytes()
                .any(|c| c.is_ascii_uppercase() || !c.is_ascii())
        {
            f.recipient = phrases::lowercase(bare);
        }
        if f.recipient.is_empty() || (count > 1 && seen.contains(&f.recipient)) {
            return false;
        }
        // A bounce addressed back to the sender is not a failure of the sender.
        if kind != Kind::Autoreply && sender == Some(f.recipient.as_str()) && count > 1 {
            return false;
        }
        if count > 1 {
            seen.insert(f.recipient.clone());
        }
        true
    });
    // A report without a Diagnostic-Code often says it in its text
    // (OpenSMTPD, Sendmail's transcript, EZweb): take the recipient's line there.
    // A diagnostic that is a bare number (Sendmail's "X-Unix; 255", a
    // program's exit status) says less than the transcript beside it.
    let says_nothing = |f: &Failure| {
        f.diagnostic
            .as_deref()
            .is_none_or(|d| !d.chars().any(char::is_alphabetic))
    };
    // Each failure's diagnostic read once (`None` until read) for the SMTP
    // command it names and its reason: the fill below, the paragraph (often
    // the diagnostic itself), the last fill and the reason all want it.
    let mut scans: Vec<Option<reason::Scan>> = b.failures.iter().map(|_| None).collect();
    // The SMTP command, when the report leaves it out but the text says it
    // (Sendmail's transcript, Postfix's "(in reply to end of DATA command)").
    let no_command = |f: &Failure, known: &mut Option<reason::Scan>| {
        f.command.is_none()
            && f.diagnostic.as_deref().is_none_or(|d| {
                known
                    .get_or_insert_with(|| reason::Scan::of(d))
                    .command()
                    .is_none()
            })
    };
    // Each test once per failure; `no_command` is asked again below only
    // for a failure whose diagnostic was replaced.
    let needs: Vec<(bool, bool)> = if matches!(b.kind, Kind::Dsn | Kind::MtaText) {
        b.failures
            .iter()
            .zip(&mut scans)
            .map(|(f, known)| (says_nothing(f), no_command(f, known)))
            .collect()
    } else {
        Vec::new()
    };
    let lines = needs
        .iter()
        .any(|&(silent, commandless)| silent || commandless)
        .then(|| input.error_lines());
    // A text without a word of the command phrases names no command
    // (most reports' texts): no recipient's paragraph is read for one.
    let named = lines.is_some_and(text::Lines::may_name_command);
    if let Some(lines) = lines.filter(|_| {
        needs
            .iter()
            .any(|&(silent, commandless)| silent || (commandless && named))
    }) {
        let all: Vec<String> = b.failures.iter().map(|f| f.recipient.clone()).collect();
        let others: Vec<&str> = all.iter().map(String::as_str).collect();
        let group = lines.recipients_group(&others);
        for ((f, &(silent, mut commandless)), known) in
            b.failures.iter_mut().zip(&needs).zip(&mut scans)
        {
            // The recipient's paragraph, read at most once for both uses.
            let mut paragraph: Option<Option<String>> = None;
            if silent {
                let read = text::diagnostic_last(lines, group, &f.recipient, &others);
                // A line without codes is taken only when it names the
                // recipient itself (OpenSMTPD: "a@b: Domain does not exist").
                let found = read.clone().filter(|d| {
                    find_reply_code(d).is_some()
                        || Status::find(d).is_some()
                        || phrases::find(&phrases::lowercase(d), &f.recipient).is_some()
                });
                paragraph = Some(read);
                if found.is_some() {
                    f.diagnostic = found;
                    f.diagnostic_type = None;
                    *known = None;
                    commandless = no_command(f, known);
                }
            }
            if commandless && named {
                // `text::command_for`, reusing the paragraph read above.
                f.command = match text::transcript_command_for(lines, group, &f.recipient) {
                    Some(c) => c,
                    None => match paragraph.unwrap_or_else(|| {
                        text::diagnostic_last(lines, group, &f.recipient, &others)
                    }) {
                        None => None,
                        // The text decoder's diagnostic is this paragraph.
                        Some(p) if known.is_some() && f.diagnostic.as_deref() == Some(&p) => {
                            known.as_ref().and_then(reason::Scan::command)
                        }
                        Some(p) => SmtpCommand::find_ci(&p),
                    },
                };
            }
        }
    }
    let category = input.header("X-PowerMTA-BounceCategory");
    let powermta_category = category.as_deref();
    for (f, mut known) in b.failures.iter_mut().zip(scans) {
        if let Some(one) = f.diagnostic.as_deref().and_then(one_line) {
            f.diagnostic = Some(one);
            known = None;
        }
        let diag = f.diagnostic.as_deref().unwrap_or("");
        // An `X-Unix` diagnostic holds a program's exit status ("X-Unix; 255"),
        // not a reply; `smtp`, `X-Postfix` and untyped ones may hold replies.
        let smtp = f.diagnostic_type.as_deref() != Some("x-unix");
        if f.reply_code.is_none() && smtp {
            f.reply_code = find_reply_code(diag);
        }
        let said = Status::find_in_diagnostic(diag);
        match (f.status, said) {
            (None, Some(s)) => {
                f.status = Some(s);
                f.status_source = StatusSource::Text;
            }
            // The remote server's own code is more precise than the
            // reporting MTA's summary of it (`Status: 5.0.0` with
            // `550 5.7.1 ...`), as long as both say the same class.
            (Some(r), Some(s)) if r != s && r.class == s.class && smtp => {
                f.status = Some(s);
                f.status_source = StatusSource::Text;
            }
            (None, None) => {
                if let Some(code) = f.reply_code {
                    // RFC 3463 §3.1: the class follows the reply code's first digit;
                    // x.0.0 says no more than that.
                    if matches!(code / 100, 4 | 5) {
                        f.status = Some(Status {
                            class: (code / 100) as u8,
                            subject: 0,
                            detail: 0,
                        });
                        f.status_source = StatusSource::Derived;
                    }
                }
            }
            _ => {}
        }
        if f.action.is_none() {
            f.action = Some(match b.kind {
                Kind::Autoreply => Action::Autoreplied,
                Kind::Feedback => Action::Reported,
                _ => match f.status.map(|s| s.class) {
                    Some(4) => Action::Delayed,
                    Some(2) => Action::Delivered,
                    _ => Action::Failed,
                },
            });
        }
        if f.command.is_none() {
            f.command = known
                .get_or_insert_with(|| reason::Scan::of(f.diagnostic.as_deref().unwrap_or("")))
                .command();
        }
        // A family decoder that knows what its notice means (Google Groups'
        // refusal, written in the sender's language) has set it already.
        if f.reason.is_none() {
            f.reason = Some(reason::classify_scanned(f, b.kind, &mut known));
        }
        // PowerMTA names its own bounce category in a header; it decides
        // only where the diagnostic and codes said nothing specific.
        if matches!(
            f.reason,
            Some(reason::Reason::OnHold | reason::Reason::Undefined)
        ) {
            if let Some(r) = powermta_category.and_then(reason::from_powermta_category) {
                f.reason = Some(r);
            }
        }
    }
    b
}

/// A diagnostic on one line, its words joined by single spaces
/// (`split_whitespace` joined by " "); None when it is that already, as
/// most are, to keep the string.
fn one_line(d: &str) -> Option<String> {
    let mut space = true; // at the start, a space would be one too many
    let tidy = if d.is_ascii() {
        d.bytes().all(|c| {
            // `char::is_whitespace` in ASCII.
            if matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
                let ok = c == b' ' && !space;
                space = true;
                ok
            } else {
                space = false;
                true
            }
        })
    } else {
        d.chars().all(|c| {
            if c.is_whitespace() {
                let ok = c == ' ' && !space;
                space = true;
                ok
            } else {
                space = false;
                true
            }
        })
    };
    if tidy && (!space || d.is_empty()) {
        return None;
    }
    let mut out = String::with_capacity(d.len());
    for w in d.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    Some(out)
}

/// Finds the returned original: a MIME part, else headers quoted in the text.
pub fn returned_original(input: &Input<'_, '_>) -> Option<Original> {
    if let Some(p) = input.original_part() {
        let raw = p.raw();
        if let Some(o) = original::from_bytes(&raw) {
            return Some(o);
        }
    }
    let text = input.text();
    let at = input.inline_original_at()?;
    let mut o = original::from_bytes(&text.as_bytes()[at..])?;
    o.headers_only = false;
    Some(o)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse;

    #[test]
    fn names_are_unique_and_nonempty() {
        let mut names: Vec<&str> = DECODERS.iter().map(|d| d.name()).collect();
        names.extend(mta::FAMILIES.iter().map(|d| d.name()));
        let n = names.len();
        assert!(names.iter().all(|n| !n.is_empty()));
        names.sort();
        names.dedup();
        assert_eq!(names.len(), n);
    }

    #[test]
    fn empty_and_ordinary_give_none() {
        for m in [&b"Subject: x\n\n"[..], b"From: a@b.example\nTo: c@d.example\nSubject: lunch at 12?\n\nSee you. Mail me at c@d.example\n"] {
            let p = parse(m);
            for hints in [Hints::default(), Hints { daemon_sender: true, ..Default::default() }] {
                assert!(detect(&p, hints).is_none());
            }
        }
    }

    /// One hand-written sample per MTA style (not corpus copies): the
    /// recipient, status, reply code and SMTP command the decoders (family
    /// or generic) must find.
    #[test]
    fn families_from_hand_written_samples() {
        type Row = (
            &'static str,
            &'static str,
            &'static str,
            Option<&'static str>,
            Option<u16>,
            Option<status::SmtpCommand>,
        );
        use status::SmtpCommand::{Connect, Data, Mail, Rcpt};
        const DSN: &str = "MIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n--B\nContent-Type: text/plain\n\n";
        let postfix = format!("From: MAILER-DAEMON@mx.example.jp (Mail Delivery System)\nSubject: Undelivered Mail Returned to Sender\n{DSN}This is the mail system at host mx.example.jp.\n\n<hana@example.net>: host mx.example.net[192.0.2.7] said: 550 5.7.1\n    Message refused (in reply to end of DATA command)\n\n--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.jp\n\nFinal-Recipient: rfc822; hana@example.net\nAction: failed\nStatus: 5.7.1\nDiagnostic-Code: smtp; 550 5.7.1 Message refused\n\n--B--\n");
        let sendmail_pipelined = format!("From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.jp>\nSubject: Returned mail: see transcript for details\n{DSN}   ----- The following addresses had permanent fatal errors -----\n<ken@example.org>\n    (reason: 550 5.1.1 <ken@example.org>... User unknown)\n\n   ----- Transcript of session follows -----\n... while talking to mx.example.org.:\n>>> DATA\n<<< 550 5.1.1 <ken@example.org>... User unknown\n550 5.1.1 <ken@example.org>... User unknown\n<<< 503 5.0.0 Need RCPT (recipient)\n\n--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.jp\n\nFinal-Recipient: RFC822; ken@example.org\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: SMTP; 550 5.1.1 <ken@example.org>... User unknown\n\n--B--\n");
        let sendmail_data = format!("From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.jp>\nSubject: Returned mail: see transcript for details\n{DSN}   ----- Transcript of session follows -----\n... while talking to mx.example.org.:\n>>> DATA\n<<< 554 5.7.1 Spam message rejected for <yuki@example.org>\n554 5.0.0 Service unavailable\n\n--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.jp\n\nFinal-Recipient: RFC822; yuki@example.org\nAction: failed\nStatus: 5.0.0\nDiagnostic-Code: SMTP; 554 5.7.1 Spam message rejected for <yuki@example.org>\n\n--B--\n");
        let sendmail_exit = format!("From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.jp>\nSubject: Returned mail: see transcript for details\n{DSN}   ----- The following addresses had permanent fatal errors -----\n\"|/usr/local/bin/filter\"\n    (reason: 75)\n    (expanded from: <sora@example.jp>)\n\n   ----- Transcript of session follows -----\nfilter: cannot open database\n554 5.3.0 unknown mailer error 75\n\n--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.jp\n\nFinal-Recipient: RFC822; sora@example.jp\nAction: failed\nStatus: 5.0.0\nDiagnostic-Code: X-Unix; 75\n\n--B--\n");
        let v5sendmail = "From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.jp>\nSubject: Returned mail: Remote protocol error\n\n   ----- Transcript of session follows -----\nWhile talking to mx.example.edu:\n>>> MAIL From:<taro@example.jp>\n<<< 550 Relaying denied\n554 <jiro@example.edu>... Remote protocol error\n\n   ----- Unsent message follows -----\nFrom: taro@example.jp\nTo: jiro@example.edu\nSubject: hi\n\nhi\n".to_string();
        let exim = "From: Mail Delivery System <Mailer-Daemon@mx.example.jp>\nX-Failed-Recipients: mei@example.net\nSubject: Mail delivery failed: returning message to sender\n\nThis message was created automatically by mail delivery software.\n\nA message that you sent could not be delivered to one or more of its\nrecipients. This is a permanent error. The following address(es) failed:\n\n  mei@example.net\n    host mx.example.net [192.0.2.9]\n    SMTP error from remote mail server after RCPT TO:<mei@example.net>:\n    550 5.1.1 No such mailbox\n\n------ This is a copy of the message, including all the headers. ------\n\nFrom: taro@example.jp\nTo: mei@example.net\nSubject: hi\n\nhi\n".to_string();
        let exim_greeting = "From: Mail Delivery System <Mailer-Daemon@mx.example.jp>\nX-Failed-Recipients: rin@example.net\nSubject: Mail delivery failed: returning message to sender\n\nA message that you sent could not be delivered to one or more of its\nrecipients. This is a permanent error. The following address(es) failed:\n\n  rin@example.net\n    host mx.example.net [192.0.2.9]\n    SMTP error from remote mail server after initial connection:\n    554 5.7.1 Client host rejected\n".to_string();
        let qmail = "From: MAILER-DAEMON@mx.example.jp\nSubject: failure notice\n\nHi. This is the qmail-send program at mx.example.jp.\nI'm afraid I wasn't able to deliver your message to the following addresses.\nThis is a permanent error; I've given up. Sorry it didn't work out.\n\n<nao@example.org>:\n192.0.2.4 does not like recipient.\nRemote host said: 550 5.1.1 <nao@example.org>: Recipient address rejected\nGiving up on 192.0.2.4.\n\n--- Below this line is a copy of the message.\n\nFrom: taro@example.jp\nTo: nao@example.org\n\nhi\n".to_string();
        let notes = "From: postmaster@notes.example.jp\nSubject: Undeliverable message\n\n------- Failure Reasons  --------\n\nUser not listed in public Name & Address Book\nmio@example.co.jp\n\n\n------- Returned Message --------\nFrom: taro@example.jp\nTo: mio@example.co.jp\nSubject: hi\n\nhi\n".to_string();
        let opensmtpd = format!("From: Mailer Daemon <MAILER-DAEMON@smtpd.example.jp>\nSubject: Delivery status notification: error\n{DSN}    This is the MAILER-DAEMON, please DO NOT REPLY to this email.\n\n    An error has occurred while attempting to deliver a message for\n    the following list of recipients:\n\nriku@example.org: Domain does not exist\n\n    Below is a copy of the original message:\n\n--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; smtpd.example.jp\n\nFinal-Recipient: rfc822; riku@example.org\nAction: failed\nStatus: 5.0.0\n\n--B--\n");
        let gmail_delay = "From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\nSubject: Delivery Status Notification (Delay)\n\nThis is an automatically generated Delivery Status Notification\n\nTHIS IS A WARNING MESSAGE ONLY.\n\nDelivery to the following recipient has been delayed:\n\n     aoi@example.com\n\nMessage will be retried for 2 more day(s)\n".to_string();
        let rows: Vec<(String, Row)> = vec![
            (
                postfix,
                (
                    "postfix",
                    "hana@example.net",
                    "",
                    Some("5.7.1"),
                    Some(550),
                    Some(Data),
                ),
            ),
            (
                sendmail_pipelined,
                (
                    "sendmail pipelined",
                    "ken@example.org",
                    "",
                    Some("5.1.1"),
                    Some(550),
                    Some(Rcpt),
                ),
            ),
            (
                sendmail_data,
                (
                    "sendmail DATA",
                    "yuki@example.org",
                    "",
                    Some("5.7.1"),
                    Some(554),
                    Some(Data),
                ),
            ),
            (
                sendmail_exit,
                (
                    "sendmail X-Unix",
                    "sora@example.jp",
                    "",
                    Some("5.3.0"),
                    Some(554),
                    None,
                ),
            ),
            (
                v5sendmail,
                (
                    "v5 sendmail",
                    "jiro@example.edu",
                    "",
                    Some("5.0.0"),
                    Some(554),
                    Some(Mail),
                ),
            ),
            (
                exim,
                (
                    "exim",
                    "mei@example.net",
                    "",
                    Some("5.1.1"),
                    Some(550),
                    Some(Rcpt),
                ),
            ),
            (
                exim_greeting,
                (
                    "exim greeting",
                    "rin@example.net",
                    "",
                    Some("5.7.1"),
                    Some(554),
                    Some(Connect),
                ),
            ),
            (
                qmail,
                (
                    "qmail",
                    "nao@example.org",
                    "",
                    Some("5.1.1"),
                    Some(550),
                    // qmail-remote says "does not like recipient" for a RCPT refusal.
                    Some(Rcpt),
                ),
            ),
            (
                notes,
                ("notes", "mio@example.co.jp", "not listed", None, None, None),
            ),
            (
                opensmtpd,
                (
                    "opensmtpd",
                    "riku@example.org",
                    "domain does not exist",
                    Some("5.0.0"),
                    None,
                    None,
                ),
            ),
            (
                gmail_delay,
                (
                    "gmail delay",
                    "aoi@example.com",
                    "retried",
                    None,
                    None,
                    None,
                ),
            ),
        ];
        let mut bad = Vec::new();
        for (m, (name, rcpt, diag, st, reply, cmd)) in &rows {
            let p = parse(m.as_bytes());
            let raw = crate::message::RawMessage {
                bytes: m.as_bytes(),
                offset: 0,
                index: 0,
            };
            let hints = match crate::triage::triage(&raw).0 {
                crate::triage::Triage::BounceLike(h) | crate::triage::Triage::CheckSubject(h) => h,
                _ => Hints::default(),
            };
            let Some(b) = detect(&p, hints) else {
                bad.push(format!("{name}: no bounce"));
                continue;
            };
            let f = &b.failures[0];
            let got = (
                f.recipient.as_str(),
                f.status.map(|s| s.to_string()),
                f.reply_code,
                f.command,
            );
            let want = (*rcpt, st.map(str::to_string), *reply, *cmd);
            let diag_ok = f
                .diagnostic
                .as_deref()
                .unwrap_or("")
                .to_lowercase()
                .contains(diag);
            if got != want || !diag_ok {
                bad.push(format!(
                    "{name}: want {want:?} got {got:?} ({:?})",
                    f.diagnostic
                ));
            }
        }
        assert!(bad.is_empty(), "{}", bad.join("\n"));
    }

    #[test]
    fn rfc3464_end_to_end() {
        let m = b"From: MAILER-DAEMON@mx.example.jp\nSubject: Undelivered Mail Returned to Sender\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n--B\nContent-Type: text/plain\n\nI'm sorry.\n\n--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.jp\n\nFinal-Recipient: rfc822; bob@example.net\nAction: failed\nStatus: 5.2.2\nDiagnostic-Code: smtp; 552 5.2.2 Mailbox full\n\n--B\nContent-Type: message/rfc822\n\nFrom: tanaka@example.jp\nMessage-ID: <m1@example.jp>\nSubject: hello\n\nbody\n--B--\n";
        let p = parse(m);
        let b = detect(
            &p,
            Hints {
                report: true,
                daemon_sender: true,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(b.kind, Kind::Dsn);
        let f = &b.failures[0];
        assert_eq!(f.recipient, "bob@example.net");
        assert_eq!(f.reply_code, Some(552));
        assert_eq!(f.reason, Some(reason::Reason::MailboxFull));
        assert_eq!(
            b.original.unwrap().message_id.as_deref(),
            Some("m1@example.jp")
        );
    }

    #[test]
    fn a_nameless_report_group_gives_its_codes_to_the_recipient_the_text_names() {
        // Exim delivering to a file: the report's Final-Recipient is a path,
        // the text names the address it was generated from.
        let m = b"From: Mail Delivery System <Mailer-Daemon@mx.example.jp>\nSubject: Mail delivery failed: returning message to sender\nContent-Type: multipart/report; report-type=delivery-status; boundary=B\n\n--B\nContent-Type: text/plain\n\nThis message was created automatically by mail delivery software.\n\nA message that you sent could not be delivered to one or more of its\nrecipients. This is a permanent error. The following address(es) failed:\n\n  save to /var/mail/spool/h/hanako\n    generated by hanako@mx.example.jp\n    mailbox is full: quota exceeded\n\n--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.jp\n\nAction: failed\nFinal-Recipient: rfc822;/var/mail/spool/h/hanako\nStatus: 5.2.2\n\n--B--\n";
        let p = parse(m);
        let hints = Hints {
            report: true,
            daemon_sender: true,
            ..Default::default()
        };
        let b = detect(&p, hints).unwrap();
        assert_eq!(b.failures.len(), 1);
        let f = &b.failures[0];
        assert_eq!(f.recipient, "hanako@mx.example.jp");
        assert_eq!(f.status.map(|s| s.to_string()).as_deref(), Some("5.2.2"));
        assert_eq!(f.reason, Some(reason::Reason::MailboxFull));
    }

    #[test]
    fn a_text_bounce_in_5000_parts_gives_each_recipient_its_own_diagnostic() {
        // One recipient per text/plain part (100,000 such parts took more
        // than two minutes: each recipient was searched for in every line).
        let n = 5000;
        let mut m = String::from("From: MAILER-DAEMON@mx.example.jp\nSubject: Undelivered Mail Returned to Sender\nContent-Type: multipart/mixed; boundary=\"B\"\n\n");
        for i in 0..n {
            m.push_str(&format!("--B\nContent-Type: text/plain\n\n<u{i}@example.org>: host mx.example.org said: 550 5.1.{} user {i} unknown\n", i % 8));
        }
        m.push_str("--B--\n");
        let p = parse(m.as_bytes());
        assert_eq!(p.parts().len(), n);
        let hints = Hints {
            daemon_sender: true,
            ..Default::default()
        };
        let b = detect(&p, hints).expect("a bounce");
        assert_eq!(b.failures.len(), n);
        for (i, f) in b.failures.iter().enumerate() {
            assert_eq!(f.recipient, format!("u{i}@example.org"));
            assert_eq!(
                f.diagnostic.as_deref(),
                Some(
                    format!(
                        "<u{i}@example.org>: host mx.example.org said: 550 5.1.{} user {i} unknown",
                        i % 8
                    )
                    .as_str()
                )
            );
            assert_eq!(
                f.status.map(|s| s.to_string()),
                Some(format!("5.1.{}", i % 8))
            );
        }
    }

    #[test]
    fn a_report_of_5000_recipients_takes_each_ones_text_and_command() {
        // A report without Diagnostic-Code: `finish` reads each recipient's
        // line of the text, and the transcript's command for the one it
        // names (the line after the transcript names none: a recipient on
        // the first line after an answer would be that answer's).
        let n = 5000;
        let mut m = String::from("From: MAILER-DAEMON@mx.example.jp\nSubject: Returned mail: see transcript for details\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n--B\nContent-Type: text/plain\n\n... while talking to mx.example.org.:\n>>> DATA\n<<< 554 5.7.1 Spam rejected for <u0@example.org>\n\nThe following recipients failed:\n");
        for i in 1..n {
            m.push_str(&format!("<u{i}@example.org>: host mx said: 550 5.1.1 user {i} unknown (in reply to RCPT TO command)\n"));
        }
        m.push_str(
            "\n--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.jp\n",
        );
        for i in 0..n {
            m.push_str(&format!(
                "\nFinal-Recipient: rfc822; u{i}@example.org\nAction: failed\nStatus: 5.0.0\n"
            ));
        }
        m.push_str("\n--B--\n");
        let p = parse(m.as_bytes());
        let hints = Hints {
            report: true,
            daemon_sender: true,
            ..Default::default()
        };
        let b = detect(&p, hints).expect("a bounce");
        assert_eq!(b.failures.len(), n);
        let f = &b.failures[0];
        assert_eq!(
            f.diagnostic.as_deref(),
            Some("<<< 554 5.7.1 Spam rejected for <u0@example.org>")
        );
        assert_eq!(f.command, Some(status::SmtpCommand::Data));
        for (i, f) in b.failures.iter().enumerate().skip(1) {
            assert_eq!(
                f.diagnostic.as_deref(),
                Some(format!("<u{i}@example.org>: host mx said: 550 5.1.1 user {i} unknown (in reply to RCPT TO command)").as_str())
            );
            assert_eq!(f.command, Some(status::SmtpCommand::Rcpt), "u{i}");
            assert_eq!(f.reply_code, Some(550));
        }
    }

    #[test]
    fn a_report_after_20000_parts_is_still_read() {
        let mut m = String::from("From: MAILER-DAEMON@mx.example.jp\nSubject: Undelivered Mail Returned to Sender\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n");
        for i in 0..20_000 {
            m.push_str(&format!("--B\nContent-Type: text/plain\n\npart {i}\n"));
        }
        m.push_str("--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.jp\n\nFinal-Recipient: rfc822; bob@example.net\nAction: failed\nStatus: 5.1.1\n\n--B\nContent-Type: message/rfc822\n\nFrom: taro@example.jp\nMessage-ID: <m1@example.jp>\nSubject: hi\n\nhi\n--B--\n");
        let p = parse(m.as_bytes());
        assert_eq!(p.defect(), None);
        assert_eq!(p.parts().len(), 20_002);
        let hints = Hints {
            report: true,
            daemon_sender: true,
            ..Default::default()
        };
        let b = detect(&p, hints).expect("a bounce");
        assert_eq!(b.kind, Kind::Dsn);
        assert_eq!(b.failures.len(), 1);
        assert_eq!(b.failures[0].recipient, "bob@example.net");
        assert_eq!(
            b.failures[0].status.map(|s| s.to_string()).as_deref(),
            Some("5.1.1")
        );
        assert_eq!(
            b.original.and_then(|o| o.message_id).as_deref(),
            Some("m1@example.jp")
        );
    }
}
