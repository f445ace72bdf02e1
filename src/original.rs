//! The returned original message: the headers a bounce carries back
//! (`message/rfc822`, `message/global`, `text/rfc822-headers`, or quoted
//! inline in the text), reduced to what the forensics need.

use std::cell::OnceCell;
use std::collections::HashSet;

use crate::parse::{decode_header_bytes, has_encoded_word};
use crate::triage::message_fields;

/// What the bounce tells of the message that could not be delivered.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Original {
    pub from: Option<String>,
    pub to: Option<String>,
    pub subject: Option<String>,
    /// Date header, raw (decoded text).
    pub date: Option<String>,
    /// Message-ID without angle brackets.
    pub message_id: Option<String>,
    /// Every Received field, top (last hop) first, unfolded.
    pub received: Vec<String>,
    /// X-Mailer or User-Agent.
    pub x_mailer: Option<String>,
    /// `d=` of every DKIM-Signature.
    pub dkim_domains: Vec<String>,
    /// The labels of the Authentication-Results and ARC-Authentication-Results
    /// values (`evidence::auth_results`: `spf=fail`, `smtp.auth=<user>`, ...),
    /// in order, each once: read in the header walk, on the value's bytes.
    pub auth_labels: Vec<String>,
    /// Other evidence headers (name, value): X-Originating-IP, X-Sender-IP,
    /// X-Authenticated-Sender, X-AuthUser, X-MS-Exchange-*-AuthAs, ...
    /// The name is the lowercase entry of `EVIDENCE` it matched, not a copy.
    pub evidence: Vec<(&'static str, String)>,
    /// Only headers came back (no body).
    pub headers_only: bool,
    /// `from` cleaned to its address, read once (see `sender`); left to
    /// `Default` where an `Original` is built.
    pub(crate) sender: OnceCell<Option<String>>,
}

impl Original {
    /// The sender's address: `from` cleaned by `dsn::clean_address`. The
    /// bounce's recipients are checked against it and every row keeps it;
    /// it is cleaned on the first call and remembered, so `from` must be
    /// final by then.
    pub fn sender(&self) -> Option<&str> {
        self.sender
            .get_or_init(|| {
                self.from
                    .as_deref()
                    .and_then(crate::bounce::dsn::clean_address)
            })
            .as_deref()
    }
}

/// Header names kept as evidence of how the original was submitted.
const EVIDENCE: &[&str] = &[
    "x-originating-ip",
    "x-sender-ip",
    "x-source-ip",
    "x-authenticated-sender",
    "x-authenticated-user",
    "x-authuser",
    "x-auth-id",
    "x-sender-id",
    "x-ms-exchange-organization-authas",
    "x-ms-exchange-organization-authsource",
    "x-ms-exchange-organization-authmechanism",
    "x-ms-exchange-crosstenant-authas",
    "x-ms-exchange-crosstenant-authsource",
    "x-ms-exchange-crosstenant-originalarrivaltime",
    "x-ms-exchange-crosstenant-id",
    "x-php-originating-script",
    "x-php-script",
    "x-source",
    "x-source-args",
    "x-ses-outgoing",
    "x-google-smtp-source",
    "received-spf",
];

/// Reads the header block of a returned message. None when the bytes hold no
/// header fields that a mail has.
pub fn from_bytes(bytes: &[u8]) -> Option<Original> {
    let bytes = skip_blank(bytes);
    let mut o = Original::default();
    let mut useful = false;
    // The header block's fields, read in the walk that finds its end.
    let mut walk = message_fields(bytes);
    for (name, value) in &mut walk {
        // Field names are compared with ASCII case ignored, in place: each
        // compare stops at a length that differs, so a name costs about one
        // compare (no lowercase copy per field).
        let is = |n: &str| name.eq_ignore_ascii_case(n.as_bytes());
        if is("from") {
            o.from = o.from.or_else(|| Some(decode(value)));
            useful = true;
        } else if is("to") {
            o.to = o.to.or_else(|| Some(decode(value)));
        } else if is("subject") {
            o.subject = o.subject.or_else(|| Some(decode(value)));
            useful = true;
        } else if is("date") {
            o.date = o.date.or_else(|| Some(decode(value)));
        } else if is("message-id") {
            if o.message_id.is_none() {
                o.message_id = message_id(decode(value));
            }
            useful = true;
        } else if is("received") {
            o.received.push(decode(value));
            useful = true;
        } else if is("x-mailer") || is("user-agent") {
            o.x_mailer = o.x_mailer.or_else(|| Some(decode(value)));
        } else if is("dkim-signature") {
            if let Some(d) = dkim_domain(value) {
                if o.dkim_domains.len() > SEARCHED || !o.dkim_domains.contains(&d) {
                    o.dkim_domains.push(d);
                }
            }
        } else if is("authentication-results") || is("arc-authentication-results") {
            // Only the value's labels are wanted: read here, where the
            // value of an ASCII field without an encoded word is its
            // bytes (unfolding changes only white space, and the labels
            // are read from tokens white space ends), not decoded into a
            // string that lived only to be read once by the evidence.
            if value.is_ascii() && !has_encoded_word(value) {
                crate::evidence::auth_results_ascii(value, &mut o.auth_labels);
            } else {
                crate::evidence::auth_results(&decode(value), &mut o.auth_labels);
            }
        } else if name.get(..2).is_some_and(|p| p.eq_ignore_ascii_case(b"x-")) || is("received-spf")
        {
            // (Every evidence name but that one starts with `x-`: the
            // other fields skip the table.)
            if let Some(&n) = EVIDENCE.iter().find(|e| is(e)) {
                o.evidence.push((n, decode(value)));
            }
        }
    }
    o.headers_only = walk.block_len() + 2 >= bytes.len();
    keep_first(&mut o.dkim_domains);
    keep_first(&mut o.auth_labels);
    useful.then_some(o)
}

/// `decode_header_bytes` of a field value, its common case read here: a
/// one-line ASCII value with no `=` (so no RFC 2047 encoded word) unfolds
/// to itself, trimmed. That is most fields of most originals; the general
/// decoder sets up an unfolding for each.
fn decode(value: &[u8]) -> String {
    // The line-end search first: it stops early in a folded Received.
    if memchr::memchr3(b'\r', b'\n', b'=', value).is_none() {
        // ASCII is text as it is: one pass over the bytes, no UTF-8
        // check after it.
        if let Some(text) = crate::parse::ascii_str(trim_ws(value)) {
            return text.to_owned();
        }
    }
    decode_header_bytes(value)
}

/// A Message-ID value without its angle brackets and the blanks around
/// them, cut in place; None when nothing is left.
fn message_id(mut v: String) -> Option<String> {
    let t = v
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim();
    if t.is_empty() {
        return None;
    }
    // `t` is a slice of `v`: its place, then `v` cut to it.
    let start = t.as_ptr() as usize - v.as_ptr() as usize;
    let end = start + t.len();
    v.truncate(end);
    v.drain(..start);
    Some(v)
}

/// A list of distinct strings (DKIM domains here, evidence labels in
/// `evidence`) is searched before each push while it is up to this long.
/// A longer one takes every push and is made unique once, by
/// `keep_first`: a search per push compared each entry with all before
/// it (40,000 DKIM signatures in a returned original took 2.5 s).
pub(crate) const SEARCHED: usize = 32;

/// Drops the repeats let into a list longer than `SEARCHED`, keeping
/// each first occurrence where it is: the list a search before every
/// push would have made.
pub(crate) fn keep_first(v: &mut Vec<String>) {
    if v.len() <= SEARCHED {
        return;
    }
    let keep: Vec<bool> = {
        let mut seen: HashSet<&str> = HashSet::with_capacity(v.len());
        v.iter().map(|s| seen.insert(s.as_str())).collect()
    };
    let mut keep = keep.into_iter();
    v.retain(|_| keep.next().unwrap_or(true));
}

/// `str::trim` for ASCII: white space is TAB to CR and the space.
fn trim_ws(b: &[u8]) -> &[u8] {
    let ws = |c: &u8| matches!(c, b'\t'..=b'\r' | b' ');
    let start = b.iter().position(|c| !ws(c)).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !ws(c)).map_or(start, |i| i + 1);
    &b[start..end]
}

fn skip_blank(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|c| c.is_ascii_whitespace()).count();
    &b[n..]
}

/// The `d=` tag of a DKIM-Signature value, lowercase.
fn dkim_domain(value: &[u8]) -> Option<String> {
    // The tags are read on the bytes: no text copy of the whole signature
    // (its `b=` and `bh=` are most of it). That is the text reading below
    // when the bytes up to the end of the tag it stops at are ASCII (there
    // white space is the same six bytes for both): only those are checked,
    // not the signature after them.
    let mut start = 0;
    for tag in value.split(|&b| b == b';') {
        let end = start + tag.len();
        start = end + 1;
        let Some(v) = trim_ws(tag).strip_prefix(b"d=") else {
            continue;
        };
        let mut d = Vec::with_capacity(v.len());
        d.extend(
            v.iter()
                .filter(|&&c| !matches!(c, b'\t'..=b'\r' | b' '))
                .map(u8::to_ascii_lowercase),
        );
        if d.is_empty() {
            continue;
        }
        if value[..end].is_ascii() {
            return Some(String::from_utf8(d).unwrap_or_default());
        }
        break;
    }
    if value.is_ascii() {
        return None;
    }
    let s = String::from_utf8_lossy(value);
    s.split(';').find_map(|tag| {
        let tag = tag.trim();
        let v = tag.strip_prefix("d=")?;
        let v: String = v.chars().filter(|c| !c.is_whitespace()).collect();
        (!v.is_empty()).then(|| v.to_ascii_lowercase())
    })
}

/// Finds a returned original quoted inline in a text bounce: the first run
/// of at least three header lines, one of them a field every message has
/// (From, Message-ID, Received, Return-Path). Returns its byte offset in `text`.
pub fn find_inline(text: &[u8]) -> Option<usize> {
    // Subject and Date alone do not make an original: IMail quotes
    // "To: / CC: / Date: / Subject:" of the message above its error text.
    const KEY: &[&[u8]] = &[b"received:", b"message-id:", b"from:", b"return-path:"];
    let mut pos = 0;
    let mut run_start: Option<usize> = None;
    let mut run_len = 0;
    let mut run_key = false;
    while pos < text.len() {
        let end = memchr::memchr(b'\n', &text[pos..]).map_or(text.len(), |i| pos + i + 1);
        let line = &text[pos..end];
        let trimmed = line.strip_prefix(b"> ").unwrap_or(line);
        let is_cont =
            !trimmed.is_empty() && (trimmed[0] == b' ' || trimmed[0] == b'\t') && run_len > 0;
        let is_field = is_field_line(trimmed);
        if is_field || is_cont {
            if run_start.is_none() {
                run_start = Some(pos);
                run_len = 0;
                run_key = false;
            }
            if is_field {
                run_len += 1;
                run_key |= KEY.iter().any(|k| {
                    trimmed.len() >= k.len() && trimmed[..k.len()].eq_ignore_ascii_case(k)
                });
            }
            if run_len >= 3 && run_key {
                return run_start;
            }
        } else {
            run_start = None;
            run_len = 0;
        }
        pos = end;
    }
    None
}

/// Does `line` start with a field name and its colon? The name is read
/// up to its first byte that cannot be in one: most lines of a bounce text
/// are prose and fail at their first word, without a search of the whole
/// line for a colon. (The first such byte is the first colon exactly when
/// the bytes before the first colon are all name bytes.)
fn is_field_line(line: &[u8]) -> bool {
    // The bytes of a name as a table: one load per byte, where the test
    // for letters, digits, `-` and `_` was a chain of compares (every line
    // of every text bounce goes through here).
    const NAME_BYTES: [bool; 256] = {
        let mut set = [false; 256];
        let mut b = 0;
        while b < 256 {
            let c = b as u8;
            set[b] = c.is_ascii_alphanumeric() || c == b'-' || c == b'_';
            b += 1;
        }
        set
    };
    let name_byte = |b: &u8| NAME_BYTES[usize::from(*b)];
    // A name is shorter than 60 bytes: the scan stops there.
    let head = &line[..line.len().min(60)];
    let colon = head
        .iter()
        .position(|b| !name_byte(b))
        .unwrap_or(head.len());
    colon > 0
        && line.get(colon) == Some(&b':')
        && colon < 60
        && line[0].is_ascii_alphabetic()
        // The name is ASCII: a window compare, no search set up.
        && !line[..colon]
            .windows(4)
            .any(|w| w.eq_ignore_ascii_case(b"http"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_dkim_domains_are_kept_once_in_order() {
        // 40,000 signatures were each compared with all before them (here
        // 20,000: the header block is read on its first MiB).
        let mut m = String::new();
        for i in 0..20_000 {
            m.push_str(&format!(
                "DKIM-Signature: v=1; d=D{}.example; s=s1;\n",
                i % 12_000
            ));
        }
        m.push_str("From: a@example.jp\nSubject: x\n\nbody\n");
        let o = from_bytes(m.as_bytes()).unwrap();
        let want: Vec<String> = (0..12_000).map(|i| format!("d{i}.example")).collect();
        assert_eq!(o.dkim_domains, want);
        // A short list is searched as before.
        let o = from_bytes(b"DKIM-Signature: d=a.example\nDKIM-Signature: d=A.example\nDKIM-Signature: d=b.example\nFrom: a@example.jp\n\n").unwrap();
        assert_eq!(o.dkim_domains, ["a.example", "b.example"]);
    }

    #[test]
    fn keep_first_drops_repeats_in_place() {
        let mut v: Vec<String> = (0..100).map(|i| format!("{}", i % 40)).collect();
        keep_first(&mut v);
        let want: Vec<String> = (0..40).map(|i| i.to_string()).collect();
        assert_eq!(v, want);
    }

    #[test]
    fn reads_original_headers() {
        let m = b"Received: from [198.51.100.7] (unknown [198.51.100.7])\n\tby smtp.example.jp with ESMTPSA\nDKIM-Signature: v=1; a=rsa-sha256; d=Example.JP; s=s1;\nFrom: Tanaka <tanaka@example.jp>\nSubject: =?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?=\nMessage-ID: <abc@example.jp>\nX-Originating-IP: [198.51.100.7]\n\nbody\n";
        let o = from_bytes(m).unwrap();
        assert_eq!(o.message_id.as_deref(), Some("abc@example.jp"));
        assert_eq!(o.subject.as_deref(), Some("テスト"));
        assert_eq!(o.dkim_domains, vec!["example.jp"]);
        assert_eq!(o.received.len(), 1);
        assert!(o.received[0].contains("ESMTPSA"));
        assert_eq!(o.evidence[0].0, "x-originating-ip");
        assert!(!o.headers_only);
    }

    #[test]
    fn dkim_domain_on_bytes_is_the_text_reading() {
        assert_eq!(
            dkim_domain(b"v=1; a=rsa-sha256; d =x; d=Ex ample.JP; s=s1; b=abc"),
            Some("example.jp".into())
        );
        assert_eq!(
            dkim_domain(b"v=1; d=;\td=\x0bA.example"),
            Some("a.example".into())
        );
        assert_eq!(dkim_domain(b"v=1; s=x"), None);
        assert_eq!(
            dkim_domain(b"d=caf\xc3\xa9.example"),
            Some("caf\u{e9}.example".into())
        );
        // The text reading of every value, whatever its bytes.
        fn reference(value: &[u8]) -> Option<String> {
            String::from_utf8_lossy(value).split(';').find_map(|tag| {
                let v = tag.trim().strip_prefix("d=")?;
                let v: String = v.chars().filter(|c| !c.is_whitespace()).collect();
                (!v.is_empty()).then(|| v.to_ascii_lowercase())
            })
        }
        for v in [
            &b"v=1; d=A.example; b=\xff\xfe"[..],
            "v=1; \u{3000}d=B.example; d=c.example".as_bytes(),
            "v=1; d=\u{3000}; d=c.example".as_bytes(),
            b"v=1; x=\xff; d=D.example",
            b"v=1; d=; s=x",
            b"\xff",
            b"",
            b";;d=e.example;",
        ] {
            assert_eq!(dkim_domain(v), reference(v), "{v:?}");
        }
    }

    #[test]
    fn field_lines_agree_with_the_colon_search() {
        // The reading `is_field_line` replaced: the first colon, then the
        // bytes before it.
        fn reference(line: &[u8]) -> bool {
            let Some(colon) = memchr::memchr(b':', line) else {
                return false;
            };
            colon > 0
                && colon < 60
                && line[..colon]
                    .iter()
                    .all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                && line[0].is_ascii_alphabetic()
                && !crate::triage::contains_ci(&line[..colon], b"http")
        }
        let long = format!("{}: x", "a".repeat(59));
        let longer = format!("{}: x", "a".repeat(60));
        for line in [
            "From: a@b",
            "from:",
            ": x",
            "1x: y",
            "X-Http-Thing: y",
            "XHTTP: y",
            "Dear customer: x",
            "Subject x: y",
            "Received",
            "",
            "a-b_c:d",
            "caf\u{e9}: x",
            "ht-tp: y",
            long.as_str(),
            longer.as_str(),
        ] {
            assert_eq!(
                is_field_line(line.as_bytes()),
                reference(line.as_bytes()),
                "{line:?}"
            );
        }
    }

    #[test]
    fn auth_labels_read_on_the_bytes_are_those_of_the_decoded_value() {
        // The labels as they were read: of the decoded value.
        fn reference(value: &[u8]) -> Vec<String> {
            let mut out = Vec::new();
            crate::evidence::auth_results(&decode_header_bytes(value), &mut out);
            out
        }
        for v in [
            &b"mx.example.jp; spf=fail smtp.mailfrom=a.example; dkim=none"[..],
            b"mx.example.jp;\r\n\tspf=softfail (x) smtp.mailfrom=a.example;\r\n\tDMARC=FAIL header.from=a.example",
            b"mx;\n spf=fail\n \n auth=pass (LOGIN) smtp.auth=\"Tanaka\"@Example.jp; ",
            b"mx; dkim=fail=x spf=fail==; =; smtp.auth=; auth=pass\r\n\t",
            b"mx;\r spf=fail\r\tdkim=fail",
            b"mx; smtp.auth==?UTF-8?B?44OG?=@example.jp; spf=fail",
            b"mx; smtp.auth=caf\xc3\xa9@example.jp;\n\tspf=fail",
            b"mx; spf=fail\xe3\x80\x80dkim=fail",
            b"\xff spf=fail",
            b"",
        ] {
            let m = [b"Authentication-Results: ", v, b"\nFrom: a@example.jp\n\nbody\n"].concat();
            let o = from_bytes(&m).unwrap();
            assert_eq!(o.auth_labels, reference(v), "{:?}", String::from_utf8_lossy(v));
        }
    }

    #[test]
    fn decode_is_the_header_decoder() {
        for v in [
            &b""[..],
            b"\x0b",
            b"\x0bTanaka <t@example.jp>\x0b",
            b"plain subject",
            b"a=b",
            b"=?UTF-8?B?44OG44K544OI?=",
            b"line one\n\tline two",
            b"caf\xc3\xa9",
            b"\xff\xfe",
            b"sixteen bytes ok and a tail",
            b"sixteen bytes ok and a tail=",
            b"sixteen bytes ok\nand a tail",
            b"sixteen bytes ok and a tai\xc3\xa9",
        ] {
            assert_eq!(decode(v), decode_header_bytes(v), "{v:?}");
        }
    }

    #[test]
    fn inline_original_is_found() {
        let t = b"Hi. This is the qmail-send program.\n<a@b>:\nRemote host said: 550\n\n--- Below this line is a copy of the message.\n\nReturn-Path: <x@y>\nReceived: (qmail 1 invoked from network); 1 Jan 2026\nFrom: x@y\nSubject: s\n\nbody\n";
        let at = find_inline(t).unwrap();
        assert!(t[at..].starts_with(b"Return-Path"));
        assert!(find_inline(b"no headers here\nat: all\n").is_none());
    }
}
