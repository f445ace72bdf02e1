//! Codes as types: RFC 3463 enhanced status codes and RFC 5321 reply codes,
//! parsed out of report fields and free text.

use std::fmt;
use std::sync::OnceLock;

/// An RFC 3463 enhanced status code `class.subject.detail`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Status {
    pub class: u8,
    pub subject: u16,
    pub detail: u16,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.class, self.subject, self.detail)
    }
}

/// `str::parse` of an unsigned integer type whose largest value is `max`:
/// an optional `+`, then one or more ASCII digits, at most `max`.
fn number(b: &[u8], max: u32) -> Option<u32> {
    let digits = b.strip_prefix(b"+").unwrap_or(b);
    if digits.is_empty() {
        return None;
    }
    let mut v: u32 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
        if v > max {
            return None;
        }
    }
    Some(v)
}

impl Status {
    /// Parses `5.1.1` exactly (surrounding white space allowed).
    pub fn parse(s: &str) -> Option<Status> {
        let s = super::phrases::trim(s);
        // Bytes: a `char` split and `str::parse` cost more than the rest
        // of reading a report's Status field. (A non-ASCII character is
        // bytes that are no digit, as it is characters that are none.)
        let mut it = s.as_bytes().split(|&b| b == b'.');
        let c = number(it.next()?, u8::MAX.into())?;
        let su = number(it.next()?, u16::MAX.into())?;
        let last = it.next()?;
        let digits = last
            .iter()
            .rposition(u8::is_ascii_digit)
            .map_or(0, |e| e + 1);
        let d = number(&last[..digits], u16::MAX.into())?;
        if it.next().is_some() || !matches!(c, 2 | 4 | 5) || su > 999 || d > 999 {
            return None;
        }
        Some(Status {
            class: c as u8,
            subject: su as u16,
            detail: d as u16,
        })
    }

    /// Finds the first enhanced status code in free text: `[245].d{1,3}.d{1,3}`
    /// standing alone (not part of an IP address, version or date).
    pub fn find(text: &str) -> Option<Status> {
        let b = text.as_bytes();
        // Only a `2`, `4` or `5` followed by a dot can start a code.
        for i in memchr::memchr3_iter(b'2', b'4', b'5', b) {
            if b.get(i + 1) == Some(&b'.')
                && (i == 0
                    || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'.' || b[i - 1] == b'-'))
            {
                let rest = &text[i..];
                let end = rest
                    .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                    .unwrap_or(rest.len());
                let cand = rest[..end].trim_end_matches('.');
                let next = rest[end..].chars().next();
                if cand.matches('.').count() == 2
                    && !matches!(next, Some(c) if c.is_ascii_alphanumeric() && c != ' ')
                    && cand.split('.').all(|p| !p.is_empty() && p.len() <= 3)
                {
                    if let Some(s) = Status::parse(cand) {
                        return Some(s);
                    }
                }
            }
        }
        None
    }

    /// Sisimai-style pseudo codes (third number ≥ 900) are not real codes.
    pub fn is_real(&self) -> bool {
        self.detail < 900
    }
}

/// The stage of the SMTP dialogue whose answer a bounce reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SmtpCommand {
    /// Connection, greeting, HELO/EHLO.
    Connect,
    /// MAIL FROM.
    Mail,
    /// RCPT TO.
    Rcpt,
    /// DATA or end of data.
    Data,
}

impl SmtpCommand {
    /// The name used in the outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            SmtpCommand::Connect => "CONN",
            SmtpCommand::Mail => "MAIL",
            SmtpCommand::Rcpt => "RCPT",
            SmtpCommand::Data => "DATA",
        }
    }

    /// Finds the command in Postfix's "(in reply to X command)", Exim's
    /// "SMTP error from remote mail server after X" and Sendmail's
    /// transcript ">>> X" wording; `lower` is lowercase text.
    pub fn find(lower: &str) -> Option<SmtpCommand> {
        Self::first_in(lower.as_bytes(), false)
    }

    /// `find` on text in any case. ASCII text (nearly every diagnostic)
    /// is searched as its ASCII lowercase, without the copy; other text
    /// takes the full lowercase, which can turn a non-ASCII letter into an
    /// ASCII one (the Kelvin sign into `k`).
    pub fn find_ci(text: &str) -> Option<SmtpCommand> {
        if text.is_ascii() {
            Self::first_in(text.as_bytes(), true)
        } else {
            Self::find(&super::phrases::lowercase(text))
        }
    }

    /// The command of the first phrase of the table that occurs in `hay`
    /// (ASCII case ignored with `fold`), found in one pass. (A packed SIMD
    /// search answered "none" faster, but a hit then took an overlapping
    /// automaton search of the whole text, and ASCII text a lowercase copy
    /// first.)
    fn first_in(hay: &[u8], fold: bool) -> Option<SmtpCommand> {
        static INDEX: OnceLock<super::phrases::HeadIndex> = OnceLock::new();
        let index = INDEX.get_or_init(|| {
            super::phrases::HeadIndex::new(COMMAND_WORDS.iter().map(|(w, _)| *w).collect())
        });
        let mut first: Option<usize> = None;
        index.each(hay, fold, |id, _| {
            first = Some(first.map_or(id, |f| f.min(id)));
            // Nothing beats the table's first phrase.
            id != 0
        });
        first.map(|i| COMMAND_WORDS[i].1)
    }
}

/// The phrases that name the SMTP command, lowercase; the first one of the
/// table found in a text wins.
pub(super) const COMMAND_WORDS: &[(&str, SmtpCommand)] = &[
    (">>> data", SmtpCommand::Data),          // Sendmail transcript
    (">>> mail from", SmtpCommand::Mail),     // Sendmail transcript
    (">>> rcpt to", SmtpCommand::Rcpt),       // Sendmail transcript
    ("after end of data", SmtpCommand::Data), // Exim
    ("after data", SmtpCommand::Data),        // Exim
    ("after ehlo", SmtpCommand::Connect),     // Exim
    ("after helo", SmtpCommand::Connect),     // Exim
    ("after initial connection", SmtpCommand::Connect), // Exim
    ("after mail from", SmtpCommand::Mail),   // Exim
    ("after rcpt to", SmtpCommand::Rcpt),     // Exim
    ("after rcpt command", SmtpCommand::Rcpt), // GMX
    ("for rcpt to command", SmtpCommand::Rcpt), // GMX "SMTP error from remote server for RCPT TO command"
    ("error following rcpt command", SmtpCommand::Rcpt), // unnamed MTA (x6)
    ("smtp:rcpt host", SmtpCommand::Rcpt), // unnamed MTA (x3) "SMTP:RCPT host 192.0.2.1: 553 ..."
    ("for data command", SmtpCommand::Data), // GMX
    ("for mail from command", SmtpCommand::Mail), // GMX
    ("[rcpt_to]", SmtpCommand::Rcpt),      // Yahoo
    ("does not like recipient", SmtpCommand::Rcpt), // qmail-remote.c
    ("did not like our rcpt to", SmtpCommand::Rcpt), // DragonFly dma
    ("sender was rejected", SmtpCommand::Mail), // qmail-remote.c
    ("in reply to data command", SmtpCommand::Data), // Postfix
    ("in reply to ehlo command", SmtpCommand::Connect), // Postfix
    ("in reply to end of data command", SmtpCommand::Data), // Postfix
    ("in reply to helo command", SmtpCommand::Connect), // Postfix
    ("in reply to mail from command", SmtpCommand::Mail), // Postfix
    ("in reply to rcpt to command", SmtpCommand::Rcpt), // Postfix
];

/// Finds the SMTP reply code in free text: three digits `[245]yz` standing
/// alone at the start or after space/`:`/`(`, followed by a space, `-`,
/// `:` or the end. Rejects numbers inside addresses, IPs and dates. A
/// failure code (4yz, 5yz) wins over an earlier 2yz or 3yz greeting
/// (`220-mx.example ... 421 4.2.1 ...`).
pub fn find_reply_code(text: &str) -> Option<u16> {
    let mut first = None;
    for code in reply_codes(text) {
        if matches!(code / 100, 4 | 5) {
            return Some(code);
        }
        first = first.or(Some(code));
    }
    first
}

/// Every reply code in free text, in order (see `find_reply_code`).
pub fn reply_codes(text: &str) -> impl Iterator<Item = u16> + '_ {
    let b = text.as_bytes();
    code_starts(b).filter_map(move |i| reply_code_at(b, i))
}

/// The offsets of the bytes `2`, `4` and `5` that leave room for three
/// digits: where a reply or status code may start (memchr skips the rest
/// of the text instead of testing every byte).
fn code_starts(b: &[u8]) -> impl Iterator<Item = usize> + '_ {
    let end = b.len().saturating_sub(2);
    memchr::memchr3_iter(b'2', b'4', b'5', &b[..end])
}

/// Full-width punctuation that may end a reply code in CJK text
/// ("552：", "550　", "550）"), as UTF-8.
const FULL_WIDTH_ENDS: [&[u8]; 4] = [
    "：".as_bytes(),
    "　".as_bytes(),
    "）".as_bytes(),
    "、".as_bytes(),
];

/// The reply code starting at byte `i`, if one stands there.
fn reply_code_at(b: &[u8], i: usize) -> Option<u16> {
    let c = b[i];
    let ok = matches!(c, b'2' | b'4' | b'5')
        && b.get(i + 1).is_some_and(|d| (b'0'..=b'5').contains(d))
        && b.get(i + 2).is_some_and(u8::is_ascii_digit)
        // Before: a separator, Exchange's "#550 5.1.1 ... ##", or the end of
        // a non-ASCII character (CJK text writes "：552" with a full-width colon).
        && (i == 0
            || matches!(
                b[i - 1],
                b' ' | b':' | b'(' | b'\t' | b'"' | b'\'' | b'[' | b'<' | b'=' | b'\n' | b'#'
            )
            || b[i - 1] >= 0x80)
        && b.get(i + 3).is_none_or(|n| {
            matches!(
                n,
                b' ' | b'-' | b')' | b'\t' | b'"' | b']' | b'\r' | b'\n' | b'>' | b',' | b':'
            )
        } || FULL_WIDTH_ENDS.iter().any(|e| b[i + 3..].starts_with(e)));
    if !ok {
        return None;
    }
    // "550-1234" (a phone or ticket number) is not a reply; the multi-line
    // form "552-5.2.2" is. "12:34:56" (a time) is not one either.
    let dash_number = b.get(i + 3) == Some(&b'-')
        && b.get(i + 4).is_some_and(u8::is_ascii_digit)
        && b.get(i + 5) != Some(&b'.');
    let time = b.get(i + 3) == Some(&b':') && b.get(i + 4).is_some_and(u8::is_ascii_digit);
    if dash_number || time || (i > 0 && b[i - 1] == b':' && i > 1 && b[i - 2].is_ascii_digit()) {
        return None;
    }
    Some((c - b'0') as u16 * 100 + (b[i + 1] - b'0') as u16 * 10 + (b[i + 2] - b'0') as u16)
}

impl Status {
    /// The status code a remote server gave in a diagnostic: one that
    /// follows a reply code (`550 5.7.1`, `550-5.7.1`, `550 #5.1.0`) wins
    /// over one standing elsewhere (a relay's own `5.1.0 - Unknown address
    /// error 550-'5.7.1 ...'` prefix); else the first one.
    pub fn find_in_diagnostic(text: &str) -> Option<Status> {
        let b = text.as_bytes();
        for i in code_starts(b) {
            if reply_code_at(b, i).is_none() {
                continue;
            }
            let mut j = i + 3;
            while j < b.len() && matches!(b[j], b' ' | b'-' | b'#' | b'\'' | b'"' | b'(') {
                j += 1;
            }
            if j == i + 3 || j >= b.len() {
                continue;
            }
            let Some(rest) = text.get(j..) else { continue };
            let end = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .unwrap_or(rest.len());
            if let Some(s) = rest
                .get(..end)
                .and_then(|c| Status::parse(c.trim_end_matches('.')))
            {
                return Some(s);
            }
        }
        Status::find(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_is_str_parse() {
        for t in [
            "",
            "+",
            "0",
            "+7",
            "-1",
            "255",
            "256",
            "65535",
            "65536",
            "0000000000000099",
            "1a",
            " 1",
            "99999999999",
        ] {
            assert_eq!(
                number(t.as_bytes(), 255),
                t.parse::<u8>().ok().map(u32::from),
                "{t:?}"
            );
            assert_eq!(
                number(t.as_bytes(), 65535),
                t.parse::<u16>().ok().map(u32::from),
                "{t:?}"
            );
        }
        for t in [
            "5.1.1",
            "5.1.1.",
            "5.1.1x",
            "5.1.1é",
            "+5.01.001",
            "5.1",
            "5.1.1.1",
            "4.999.999",
            "5.1000.1",
            "3.1.1",
            "5..1",
            "2.0.0 ",
            "5.1.é",
        ] {
            let old = (|| {
                let s = t.trim();
                let mut it = s.split('.');
                let c: u8 = it.next()?.parse().ok()?;
                let su: u16 = it.next()?.parse().ok()?;
                let d: u16 = it
                    .next()?
                    .trim_end_matches(|c: char| !c.is_ascii_digit())
                    .parse()
                    .ok()?;
                if it.next().is_some() || !matches!(c, 2 | 4 | 5) || su > 999 || d > 999 {
                    return None;
                }
                Some(Status {
                    class: c,
                    subject: su,
                    detail: d,
                })
            })();
            assert_eq!(Status::parse(t), old, "{t:?}");
        }
    }

    #[test]
    fn status_parse_and_find() {
        assert_eq!(Status::parse("5.1.1").unwrap().to_string(), "5.1.1");
        assert_eq!(Status::parse(" 4.7.0 ").unwrap().to_string(), "4.7.0");
        assert!(Status::parse("3.1.1").is_none());
        assert!(Status::parse("5.1").is_none());
        assert_eq!(
            Status::find("550 5.1.1 <a@b>: User unknown")
                .unwrap()
                .to_string(),
            "5.1.1"
        );
        assert_eq!(
            Status::find("#5.1.10 RESOLVER.ADR.RecipientNotFound")
                .unwrap()
                .to_string(),
            "5.1.10"
        );
        assert!(Status::find("host 192.0.2.5.1 said").is_none());
        assert!(Status::find("address 10.5.1.1 refused").is_none());
    }

    #[test]
    fn commands() {
        assert_eq!(
            SmtpCommand::find("550 denied (in reply to end of data command)"),
            Some(SmtpCommand::Data)
        );
        assert_eq!(
            SmtpCommand::find("smtp error from remote mail server after rcpt to:<a@b>"),
            Some(SmtpCommand::Rcpt)
        );
        assert_eq!(SmtpCommand::find("550 user unknown"), None);
    }

    #[test]
    fn reply_codes() {
        assert_eq!(find_reply_code("host said: 550 5.1.1 unknown"), Some(550));
        assert_eq!(find_reply_code("smtp; 552-5.2.2 over quota"), Some(552));
        assert_eq!(
            find_reply_code("(in reply to RCPT TO command) 450"),
            Some(450)
        );
        assert_eq!(find_reply_code("user5501@example.com unknown"), None);
        assert_eq!(find_reply_code("192.0.2.250 refused"), None);
        assert_eq!(find_reply_code("no code here"), None);
        assert_eq!(
            find_reply_code("550: <a@b.example>: User unknown"),
            Some(550)
        );
        assert_eq!(find_reply_code("220-mx.example 421 4.2.1 later"), Some(421));
        assert_eq!(find_reply_code("at 12:45:50 refused"), None);
        // Exchange's "#550 5.1.1 RESOLVER... ##" and CJK punctuation.
        assert_eq!(
            find_reply_code("Remote Server returned '550 5.1.1'#550 5.1.1 RESOLVER.ADR.RecipNotFound; not found ##"),
            Some(550)
        );
        assert_eq!(
            find_reply_code("#550 5.1.1 RESOLVER.ADR.RecipNotFound"),
            Some(550)
        );
        assert_eq!(find_reply_code("错误代码：552：邮箱空间不足"), Some(552));
        assert_eq!(find_reply_code("エラー（550）"), Some(550));
        assert_eq!(find_reply_code("第550号"), None);
    }

    #[test]
    fn remote_status_wins() {
        let s = Status::find_in_diagnostic(
            "5.1.0 - Unknown address error 550-'5.7.1 <a@b>... Access denied'",
        );
        assert_eq!(s.unwrap().to_string(), "5.7.1");
        let s = Status::find_in_diagnostic("550 #5.1.0 Address rejected.");
        assert_eq!(s.unwrap().to_string(), "5.1.0");
        let s = Status::find_in_diagnostic("mailbox full 4.2.2");
        assert_eq!(s.unwrap().to_string(), "4.2.2");
    }
}
