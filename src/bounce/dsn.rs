//! RFC 3464 delivery-status fields (and RFC 6533 `message/global-delivery-status`):
//! the shared reader every decoder may use, and the `rfc3464` decoder that
//! reads any report carrying such a part.

use std::borrow::Cow;

use super::status::Status;
use super::types::{Action, Bounce, Failure, Kind, StatusSource};
use super::{Decoder, Input};

/// Fields of a delivery-status report.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Report {
    pub reporting_mta: Option<String>,
    pub arrival_date: Option<String>,
    pub recipients: Vec<Failure>,
    /// Groups whose Final-Recipient is no address (Exim's file path for a
    /// local delivery, `rfc822;<>`): their Status and Diagnostic-Code still
    /// describe a failure the text names.
    pub unnamed: Vec<Failure>,
}

/// Strips an RFC 3464 type prefix (`rfc822;`, `dns;`, `smtp;`).
pub fn strip_type(v: &str) -> &str {
    // Only a `;` among the first 12 bytes can end a type (memchr there, not
    // a `char` search of the whole value).
    match memchr::memchr(b';', &v.as_bytes()[..v.len().min(12)]) {
        Some(i)
            if i < 12
                && v.as_bytes()[..i]
                    .iter()
                    .all(|&c| c.is_ascii_alphanumeric() || c == b'-') =>
        {
            super::phrases::trim(&v[i + 1..])
        }
        _ => super::phrases::trim(v),
    }
}

/// Cleans an address field: type prefix, angle brackets, quotes, trailing
/// junk; lowercase. None when no `@` address remains.
pub fn clean_address(v: &str) -> Option<String> {
    let v = strip_type(v);
    // Most values are a bare address after their type (`rfc822; a@b.example`).
    if let Some(a) = bare_address(v) {
        return a;
    }
    // A quoted local part (`"a..b"@example.org`, RFC 5321 §4.1.2) keeps its quotes.
    let bare = super::phrases::trim(v).trim_start_matches('<');
    if bare.starts_with('"') {
        if let Some(q) = bare.get(1..).and_then(|r| super::phrases::find(r, "\"@")) {
            let end = bare
                .get(q + 2..)?
                .find(|c: char| c.is_whitespace() || c == '>' || c == ',' || c == ';')
                .map_or(bare.len(), |e| q + 2 + e);
            let a = bare.get(..end)?;
            if a.len() > q + 3 {
                return Some(a.to_lowercase());
            }
        }
    }
    let v = match (
        memchr::memchr(b'<', v.as_bytes()),
        memchr::memrchr(b'>', v.as_bytes()),
    ) {
        (Some(a), Some(b)) if a < b => &v[a + 1..b],
        _ => v,
    };
    // Most of the others one in angle brackets (`"Name" <a@b.example>`).
    if let Some(a) = bare_address(v) {
        return a;
    }
    if v.is_ascii() {
        return clean_ascii(v);
    }
    let v = v.trim().trim_matches(|c: char| {
        c == '"' || c == '\'' || c == ',' || c == ';' || c == '.' || c == ':'
    });
    let v = v.split_whitespace().next()?;
    let v = v.trim_matches(|c: char| c == '<' || c == '>' || c == '(' || c == ')');
    let at = v.rfind('@')?;
    if at == 0 || at + 1 >= v.len() || v.contains(['<', '>', ' ']) {
        return None;
    }
    Some(v.to_lowercase())
}

/// `clean_address` of a value that none of its steps would change, in one
/// pass: `None` unless every byte is one of [`ADDRESS_BYTE`] and neither end
/// is a `.`. Such a value has no white space, quote, angle bracket,
/// parenthesis or `,;:` to find, trim or cut at, so all that is left of
/// `clean_address` (and `clean_ascii`) is the test of its last `@`.
fn bare_address(v: &str) -> Option<Option<String>> {
    let b = v.as_bytes();
    if !b.iter().all(|&c| ADDRESS_BYTE[usize::from(c)])
        || b.first() == Some(&b'.')
        || b.last() == Some(&b'.')
    {
        return None;
    }
    Some(match memchr::memrchr(b'@', b) {
        Some(at) if at > 0 && at + 1 < b.len() => Some(v.to_ascii_lowercase()),
        _ => None,
    })
}

/// The bytes [`bare_address`] takes: printable ASCII but the ones some step
/// of `clean_address` looks for (`"'<>(),;:`, white space).
const ADDRESS_BYTE: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0x21;
    while b < 0x7f {
        t[b] = !matches!(
            b as u8,
            b'"' | b'\'' | b'<' | b'>' | b'(' | b')' | b',' | b';' | b':'
        );
        b += 1;
    }
    t
};

/// The end of `clean_address` for ASCII text, byte by byte: the same
/// trims and split as the `char` version (Unicode white space within ASCII
/// is these six bytes), without decoding characters one at a time.
fn clean_ascii(text: &str) -> Option<String> {
    fn trim(mut s: &[u8], strip: impl Fn(u8) -> bool) -> &[u8] {
        while let [first, rest @ ..] = s {
            if !strip(*first) {
                break;
            }
            s = rest;
        }
        while let [rest @ .., last] = s {
            if !strip(*last) {
                break;
            }
            s = rest;
        }
        s
    }
    let ws = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r');
    let v = trim(text.as_bytes(), ws);
    let v = trim(v, |c| matches!(c, b'"' | b'\'' | b',' | b';' | b'.' | b':'));
    // The first white-space separated word.
    let start = v.iter().position(|&b| !ws(b))?;
    let v = &v[start..];
    let v = &v[..v.iter().position(|&b| ws(b)).unwrap_or(v.len())];
    let v = trim(v, |c| matches!(c, b'<' | b'>' | b'(' | b')'));
    let at = memchr::memrchr(b'@', v)?;
    if at == 0 || at + 1 >= v.len() || v.iter().any(|&b| matches!(b, b'<' | b'>' | b' ')) {
        return None;
    }
    // `v` is a slice of the ASCII text: copied from the `str`, it needs no
    // UTF-8 check.
    let at = v.as_ptr() as usize - text.as_ptr() as usize;
    Some(text[at..at + v.len()].to_ascii_lowercase())
}

/// Reads the fields of a delivery-status body. Groups are separated by empty
/// lines; a `Final-Recipient`/`Original-Recipient` after a complete recipient
/// also starts a new group (some generators omit the empty lines). Fields of
/// a group may come before its `Final-Recipient` (Facebook, MessageLabs put
/// `Status`/`Diagnostic-Code` first): they wait for the group's recipient.
pub fn read(text: &str) -> Report {
    let mut report = Report::default();
    let mut cur: Option<Failure> = None;
    let mut cur_has_final = false;
    // Per-recipient fields of this group seen before its first recipient.
    let mut pending = Failure::default();
    let mut group_has_rcpt = false;
    let push = |cur: &mut Option<Failure>, report: &mut Report| {
        if let Some(f) = cur.take() {
            if !f.recipient.is_empty() {
                report.recipients.push(f);
            } else {
                report.unnamed.push(f);
            }
        }
    };
    for field in fields_and_breaks(text) {
        let Some((name, value)) = field else {
            // End of a group: leftovers belong to the recipient before them.
            if let Some(f) = cur.as_mut() {
                merge_missing(f, std::mem::take(&mut pending));
            }
            pending = Failure::default();
            group_has_rcpt = false;
            continue;
        };
        // The name lowercased; names of interest are short ASCII, so a
        // stack copy does (a longer name is no field we read). Compared as
        // bytes: no UTF-8 check of a copy.
        let mut buf = [0u8; 24];
        let name: &[u8] = match buf.get_mut(..name.len()) {
            Some(b) => {
                // Copied and lowercased in one loop (a name is a dozen bytes).
                for (to, from) in b.iter_mut().zip(name.as_bytes()) {
                    *to = from.to_ascii_lowercase();
                }
                b
            }
            None => b"",
        };
        match name {
            b"reporting-mta" => {
                report.reporting_mta = report
                    .reporting_mta
                    .take()
                    .or(Some(strip_type(&value).to_string()))
            }
            b"arrival-date" => {
                report.arrival_date = report.arrival_date.take().or(Some(value.to_string()))
            }
            b"final-recipient" | b"original-recipient" => {
                let addr = clean_address(&value);
                let starts_new = match &cur {
                    None => true,
                    Some(f) => {
                        !group_has_rcpt
                            || (name == b"final-recipient" && cur_has_final)
                            || (name == b"original-recipient" && f.original_recipient.is_some())
                    }
                };
                if starts_new {
                    push(&mut cur, &mut report);
                    // The group's fields seen so far: `pending` holds no
                    // others (`set_field`), so it is the new recipient's
                    // `Failure` as it is.
                    cur = Some(std::mem::take(&mut pending));
                    cur_has_final = false;
                }
                group_has_rcpt = true;
                let Some(f) = cur.as_mut() else { continue };
                if name == b"final-recipient" {
                    cur_has_final = true;
                    if let Some(a) = addr {
                        f.recipient = a;
                    }
                } else {
                    f.original_recipient = addr.clone();
                    if f.recipient.is_empty() {
                        if let Some(a) = addr {
                            f.recipient = a;
                        }
                    }
                }
            }
            _ => {
                let f = match cur.as_mut() {
                    Some(f) if group_has_rcpt => f,
                    _ => &mut pending,
                };
                set_field(f, name, &value);
            }
        }
    }
    if let Some(f) = cur.as_mut() {
        merge_missing(f, pending);
    }
    push(&mut cur, &mut report);
    report
}

/// Sets one per-recipient field of a group.
fn set_field(f: &mut Failure, name: &[u8], value: &str) {
    match name {
        b"action" => f.action = Action::parse(value),
        b"status" => {
            let first = first_word(value);
            if let Some(s) = Status::parse(first).or_else(|| Status::find(value)) {
                f.status = Some(s);
                f.status_source = StatusSource::Report;
            }
        }
        b"diagnostic-code" => {
            let d = strip_type(value).to_string();
            if !d.is_empty() {
                f.diagnostic_type = diagnostic_type(value);
                f.diagnostic = Some(d);
            }
        }
        b"remote-mta" => {
            let v = strip_type(value);
            if !v.is_empty() {
                f.remote_mta = Some(v.to_string());
            }
        }
        b"last-attempt-date" => f.last_attempt = Some(value.to_string()),
        _ => {}
    }
}

/// `value.split_whitespace().next()`, or `""`: the bytes up to the first
/// ASCII white space when that is where the word ends, the `char` split
/// when white space leads or a non-ASCII byte comes first (a report value
/// is trimmed and ASCII: the split is seldom needed).
fn first_word(value: &str) -> &str {
    let b = value.as_bytes();
    let end = b
        .iter()
        .position(|&c| matches!(c, b'\t'..=b'\r' | b' ') || !c.is_ascii())
        .unwrap_or(b.len());
    if end > 0 && b.get(end).is_none_or(u8::is_ascii) {
        &value[..end]
    } else {
        value.split_whitespace().next().unwrap_or("")
    }
}

/// The type of a `Diagnostic-Code` (`smtp`, `x-unix`, ...), lowercase.
fn diagnostic_type(value: &str) -> Option<String> {
    // `split_once(';')`, by a byte search.
    let t = value[..memchr::memchr(b';', value.as_bytes())?].trim();
    (!t.is_empty() && t.len() < 16 && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        .then(|| t.to_ascii_lowercase())
}

/// Fills the fields of `into` that are unset from `from`.
fn merge_missing(into: &mut Failure, from: Failure) {
    if into.action.is_none() {
        into.action = from.action;
    }
    if into.status.is_none() {
        into.status = from.status;
        into.status_source = from.status_source;
    }
    if into.diagnostic.is_none() {
        into.diagnostic = from.diagnostic;
        into.diagnostic_type = from.diagnostic_type;
    }
    if into.remote_mta.is_none() {
        into.remote_mta = from.remote_mta;
    }
    if into.last_attempt.is_none() {
        into.last_attempt = from.last_attempt;
    }
}

/// `Name: value` fields of a text, continuation lines joined with one space;
/// lines that are not fields are skipped.
pub fn unfolded_fields(text: &str) -> Vec<(String, String)> {
    fields_and_breaks(text)
        .into_iter()
        .flatten()
        .map(|(n, v)| (n.to_string(), v.into_owned()))
        .collect()
}

/// Like `unfolded_fields`, with `None` where an empty line separates groups;
/// names and one-line values borrow from the text (only a folded value is
/// copied).
fn fields_and_breaks(text: &str) -> Vec<Option<(&str, Cow<'_, str>)>> {
    // A report holds a field or a break every 30-odd bytes.
    let mut out: Vec<Option<(&str, Cow<'_, str>)>> = Vec::with_capacity(text.len() / 32 + 4);
    let mut last_was_field = false;
    for line in lines(text) {
        // A field: a name of letters, digits, `-` and `_`, then `:`. A line
        // that starts with a name byte is no empty line and no continuation.
        if line
            .as_bytes()
            .first()
            .is_some_and(|&b| NAME_BYTE[usize::from(b)])
        {
            let c = line.bytes().position(|ch| !NAME_BYTE[ch as usize]);
            match c {
                Some(c) if line.as_bytes()[c] == b':' => {
                    out.push(Some((
                        &line[..c],
                        Cow::Borrowed(super::phrases::trim(&line[c + 1..])),
                    )));
                    last_was_field = true;
                }
                _ => last_was_field = false,
            }
            continue;
        }
        let trimmed = super::phrases::trim(line);
        if trimmed.is_empty() {
            last_was_field = false;
            if matches!(out.last(), Some(Some(_))) {
                out.push(None);
            }
            continue;
        }
        if (line.starts_with(' ') || line.starts_with('\t')) && last_was_field {
            if let Some(Some((_, v))) = out.last_mut() {
                let v = v.to_mut();
                v.push(' ');
                v.push_str(trimmed);
            }
            continue;
        }
        last_was_field = false;
    }
    out
}

/// The bytes of a field name (ASCII letters, digits, `-`, `_`), as a table:
/// one load a byte where the tests took several.
const NAME_BYTE: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric() || c == b'-' || c == b'_';
        b += 1;
    }
    t
};

/// `str::lines`, the line ends found by memchr's SIMD search (the `char`
/// searcher of `lines` cost more than the rest of reading a report).
fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        // The last line ends at the end of the text, unless the text ends
        // with a line end.
        if rest.is_empty() {
            return None;
        }
        Some(match memchr::memchr(b'\n', rest.as_bytes()) {
            Some(end) => {
                let line = &rest[..end];
                rest = &rest[end + 1..];
                line.strip_suffix('\r').unwrap_or(line)
            }
            // A `\r` without its `\n` stays.
            None => std::mem::take(&mut rest),
        })
    })
}

/// The RFC 3464 decoder: any message with a delivery-status part, or whose
/// text holds `Final-Recipient:` fields.
pub struct Rfc3464;

impl Decoder for Rfc3464 {
    fn name(&self) -> &'static str {
        "rfc3464"
    }

    fn sniff(&self, input: &Input<'_, '_>) -> bool {
        input.status_part().is_some()
            || input.hints.report
            || input.text().contains("Final-Recipient")
    }

    fn decode(&self, input: &Input<'_, '_>) -> Option<Bounce> {
        let (text, kind) = match input.status_part() {
            Some(t) => (t, Kind::Dsn),
            None => (input.text(), Kind::MtaText),
        };
        let mut report = read(text);
        if report.recipients.is_empty() && kind == Kind::Dsn {
            // A report with no recipient group ("--- Delivery report
            // unavailable ---" of Postfix, a path as Final-Recipient of
            // Exim): the recipients the text lists, else the returned
            // original's only To.
            if let Some(t) = super::text::Text.decode(input) {
                report.recipients = t.failures;
                // One recipient in the text, one nameless group in the
                // report: the group's codes are that recipient's.
                if let ([f], [g]) = (&mut report.recipients[..], &report.unnamed[..]) {
                    merge_missing(f, g.clone());
                }
            } else if let Some(to) = super::returned_original(input)
                .and_then(|o| o.to)
                .filter(|t| !t.contains(','))
                .and_then(|t| clean_address(&t))
            {
                report.recipients.push(Failure {
                    recipient: to,
                    ..Default::default()
                });
            }
        }
        if report.recipients.is_empty() {
            return None;
        }
        let mut b = Bounce::new(kind, self.name());
        b.reporting_mta = report.reporting_mta;
        b.arrival_date = report.arrival_date;
        b.failures = report.recipients;
        Some(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_groups() {
        let t = "Reporting-MTA: dns; mx.example.jp\nArrival-Date: Tue, 3 Nov 2026 09:00:00 +0900\n\nFinal-Recipient: rfc822; Alice@Example.NET\nOriginal-Recipient: rfc822;alias@example.net\nAction: failed\nStatus: 5.1.1\nRemote-MTA: dns; mx.example.net\nDiagnostic-Code: smtp; 550 5.1.1 <alice@example.net>:\n    Recipient address rejected: User unknown\n\nFinal-Recipient: rfc822; bob@example.org\nAction: delayed\nStatus: 4.4.7\n";
        let r = read(t);
        assert_eq!(r.reporting_mta.as_deref(), Some("mx.example.jp"));
        assert_eq!(r.recipients.len(), 2);
        let a = &r.recipients[0];
        assert_eq!(a.recipient, "alice@example.net");
        assert_eq!(a.original_recipient.as_deref(), Some("alias@example.net"));
        assert_eq!(a.status.unwrap().to_string(), "5.1.1");
        assert_eq!(
            a.diagnostic.as_deref(),
            Some("550 5.1.1 <alice@example.net>: Recipient address rejected: User unknown")
        );
        assert_eq!(r.recipients[1].action, Some(Action::Delayed));
    }

    #[test]
    fn groups_without_blank_lines() {
        let r = read("Final-Recipient: rfc822; a@x.example\nAction: failed\nStatus: 5.0.0\nFinal-Recipient: rfc822; b@x.example\nAction: failed\nStatus: 5.1.1\n");
        assert_eq!(r.recipients.len(), 2);
    }

    #[test]
    fn addresses() {
        assert_eq!(
            clean_address("rfc822; <A@B.example>").as_deref(),
            Some("a@b.example")
        );
        assert_eq!(
            clean_address("rfc822;\"x@y.example\"").as_deref(),
            Some("x@y.example")
        );
        assert_eq!(clean_address("rfc822; unknown"), None);
        assert_eq!(
            clean_address("rfc822; <\"a..B.\"@Example.org>").as_deref(),
            Some("\"a..b.\"@example.org")
        );
    }
    #[test]
    fn a_bare_address_is_what_clean_ascii_makes_of_it() {
        // Every string of up to four bytes of an alphabet with each kind of
        // byte the steps look at, around an address.
        let alphabet = [
            "a", "B", "@", ".", " ", "\t", "<", ">", "\"", "'", ",", ";", ":", "(", ")", "-",
            "\u{1}",
        ];
        let mut taken = 0;
        let mut words = vec![String::new()];
        for _ in 0..4 {
            words = words
                .iter()
                .flat_map(|w| alphabet.iter().map(move |c| format!("{w}{c}")))
                .collect();
            for w in &words {
                for v in [w.clone(), format!("{w}x@y.Example"), format!("Ab@{w}")] {
                    if let Some(got) = bare_address(&v) {
                        taken += 1;
                        assert_eq!(got, clean_ascii(&v), "{v:?}");
                    }
                }
            }
        }
        assert!(taken > 1000, "{taken}");
    }

    #[test]
    fn first_word_is_split_whitespace() {
        for v in [
            "",
            "5.1.1",
            "5.1.1 (x)",
            "5.1.1\t",
            " 5.1.1",
            "\u{b}5.1.1",
            "5.1.1\u{b}x",
            "5.1.1\u{3000}x",
            "\u{3000}5.1.1",
            "ü 5",
            "5ü 5",
            "\u{85}",
            "a\u{a0}b c",
        ] {
            assert_eq!(
                first_word(v),
                v.split_whitespace().next().unwrap_or(""),
                "{v:?}"
            );
        }
    }

    #[test]
    fn lines_are_str_lines() {
        for t in [
            "", "a", "a\n", "a\r\nb", "a\n\nb\r", "\n", "\r\n\r\n", "x\ry\n",
        ] {
            assert_eq!(
                lines(t).collect::<Vec<_>>(),
                t.lines().collect::<Vec<_>>(),
                "{t:?}"
            );
        }
    }
}
