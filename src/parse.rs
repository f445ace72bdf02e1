//! Stage 4: a bounce-like message → `Parsed`, a MIME tree with the views the
//! decoders need. The only module that imports mailparse.
//!
//! Text is decoded here once: header values (RFC 2047 and raw 8-bit), and
//! bodies in their declared charset — or, when none is declared, UTF-8,
//! ISO-2022-JP, Shift_JIS or EUC-JP as detected. Undecodable bytes become
//! U+FFFD; nothing here fails on bad input.

use std::borrow::Cow;
use std::cell::OnceCell;

use mailparse::body::Body;
use mailparse::{MailHeader, ParsedMail};

/// Messages whose body is larger than this are parsed on their first part
/// only: a bounce carries what matters early, and an attacker's 100 MB
/// message must not cost 100 MB of decoding.
const MAX_PARSE: usize = 16 << 20;

/// A parsed message and lazily built text views.
pub struct Parsed<'a> {
    mail: ParsedMail<'a>,
    text: OnceCell<String>,
}

/// One leaf part of the MIME tree.
pub struct Part<'p, 'a> {
    /// Lowercase MIME type, e.g. `message/delivery-status`.
    pub mimetype: &'p str,
    /// The mailparse part.
    pub mail: &'p ParsedMail<'a>,
}

impl<'p, 'a> Part<'p, 'a> {
    /// The part's body after transfer decoding, as bytes.
    pub fn raw(&self) -> Cow<'p, [u8]> {
        // 7bit, 8bit and binary bodies are the message's own bytes: borrow
        // them (`get_body_raw` copies them); only base64 and
        // quoted-printable need decoding into a new buffer.
        let mail: &'p ParsedMail<'p> = self.mail;
        match mail.get_body_encoded() {
            Body::SevenBit(b) | Body::EightBit(b) => Cow::Borrowed(b.get_raw()),
            Body::Binary(b) => Cow::Borrowed(b.get_raw()),
            Body::Base64(_) | Body::QuotedPrintable(_) => match self.mail.get_body_raw() {
                Ok(v) => Cow::Owned(v),
                Err(_) => Cow::Borrowed(self.mail.raw_bytes),
            },
        }
    }

    /// The part's body as text in its declared (or detected) charset.
    pub fn text(&self) -> String {
        let raw = self.raw();
        // Plain ASCII (most bounces) is already UTF-8 in every charset
        // `decode_text` knows: keep the transfer-decoded buffer instead of
        // copying it once more.
        if let Cow::Owned(v) = raw {
            if is_plain_ascii(&v) {
                return String::from_utf8(v).unwrap_or_default();
            }
            return decode_text(&v, self.charset());
        }
        decode_text(&raw, self.charset())
    }

    fn charset(&self) -> Option<&str> {
        self.mail.ctype.params.get("charset").map(|s| s.as_str())
    }
}

/// Parses a message. Fails only when mailparse finds no header structure at all.
pub fn parse(bytes: &[u8]) -> Result<Parsed<'_>, String> {
    let bytes = &bytes[..bytes.len().min(MAX_PARSE)];
    let mail = mailparse::parse_mail(bytes).map_err(|e| format!("MIME parse failed: {e}"))?;
    Ok(Parsed {
        mail,
        text: OnceCell::new(),
    })
}

/// Line ends mailparse understands (LF or CRLF): CR-only mail is rewritten
/// to LF, and mbox `>From ` quoting is undone. Borrowed when nothing changes.
pub fn normalize(bytes: &[u8]) -> Cow<'_, [u8]> {
    let unquoted = crate::mailbox::mbox::unquote_from(bytes);
    let head = &unquoted[..unquoted.len().min(4096)];
    if memchr::memchr(b'\n', head).is_none() && memchr::memchr(b'\r', head).is_some() {
        let v: Vec<u8> = unquoted
            .iter()
            .map(|&b| if b == b'\r' { b'\n' } else { b })
            .collect();
        return Cow::Owned(v);
    }
    unquoted
}

impl<'a> Parsed<'a> {
    /// Top-level headers named `name` (ASCII case ignored), in order.
    /// mailparse's own lookup decodes every field name as Latin-1 on every
    /// call; for an ASCII name, comparing the raw name bytes gives the same
    /// answer (a name with bytes >= 0x80 matches neither way).
    fn named<'p, 'n>(&'p self, name: &'n str) -> impl Iterator<Item = &'p MailHeader<'a>> + 'n
    where
        'p: 'n,
    {
        self.mail
            .headers
            .iter()
            .filter(move |h| h.get_key_raw().eq_ignore_ascii_case(name.as_bytes()))
    }

    /// A top-level header, decoded; None when absent.
    pub fn header(&self, name: &str) -> Option<String> {
        self.named(name).next().map(header_text)
    }

    /// All values of a top-level header, decoded.
    pub fn headers_all(&self, name: &str) -> Vec<String> {
        self.named(name).map(header_text).collect()
    }

    /// All values of a top-level header as raw bytes (not decoded, still
    /// folded): for cheap byte tests before decoding.
    pub fn headers_all_raw(&self, name: &str) -> Vec<&[u8]> {
        self.named(name).map(|h| h.get_value_raw()).collect()
    }

    /// The raw header block bytes of the top level.
    pub fn raw_message(&self) -> &'a [u8] {
        self.mail.raw_bytes
    }

    /// Top-level lowercase MIME type.
    pub fn mimetype(&self) -> &str {
        &self.mail.ctype.mimetype
    }

    /// The top-level content-type parameter, e.g. `report-type`.
    pub fn ctype_param(&self, name: &str) -> Option<&str> {
        self.mail.ctype.params.get(name).map(|s| s.as_str())
    }

    /// Leaf parts in document order (message/* parts are leaves).
    pub fn parts(&self) -> Vec<Part<'_, 'a>> {
        let mut out = Vec::new();
        collect(&self.mail, &mut out);
        out
    }

    /// The first leaf part of one of these MIME types.
    pub fn part(&self, types: &[&str]) -> Option<Part<'_, 'a>> {
        self.parts()
            .into_iter()
            .find(|p| types.contains(&p.mimetype))
    }

    /// The human-readable text: all text/plain parts (text/html made plain
    /// when there is no text/plain), decoded, joined by blank lines. Parts of
    /// a returned message (inside message/rfc822) are not included.
    pub fn text(&self) -> &str {
        self.text.get_or_init(|| {
            let parts = self.parts();
            let mut out = String::new();
            let plain: Vec<_> = parts
                .iter()
                .filter(|p| p.mimetype == "text/plain")
                .collect();
            if !plain.is_empty() {
                for p in plain {
                    if !out.is_empty() {
                        out.push_str("\n\n");
                    }
                    out.push_str(&p.text());
                }
            } else if let Some(h) = parts.iter().find(|p| p.mimetype == "text/html") {
                out = html_to_text(&h.text());
            } else if parts.len() == 1 && !parts[0].mimetype.starts_with("message/") {
                // Non-MIME or odd types (application/octet-stream from old MTAs).
                out = parts[0].text();
            }
            out
        })
    }
}

fn collect<'p, 'a>(m: &'p ParsedMail<'a>, out: &mut Vec<Part<'p, 'a>>) {
    if m.subparts.is_empty() {
        out.push(Part {
            mimetype: m.ctype.mimetype.as_str(),
            mail: m,
        });
    } else {
        for s in &m.subparts {
            collect(s, out);
        }
    }
}

/// Decodes one header's value: RFC 2047 words by mailparse, raw 8-bit bytes
/// by charset detection (mailparse would read them as Latin-1).
pub fn header_text(h: &mailparse::MailHeader<'_>) -> String {
    let raw = h.get_value_raw();
    if raw.is_ascii() {
        if !has_encoded_word(raw) {
            return unfold_plain(std::str::from_utf8(raw).unwrap_or_default());
        }
        return h.get_value();
    }
    let text = decode_text(raw, None);
    unfold(&text)
}

/// Decodes a raw header value given as bytes (from a returned original's
/// header block): RFC 2047 and raw 8-bit.
pub fn decode_header_bytes(raw: &[u8]) -> String {
    if raw.is_ascii() {
        let s = std::str::from_utf8(raw).unwrap_or_default();
        if has_encoded_word(raw) {
            let line = format!("X: {s}");
            if let Ok((h, _)) = mailparse::parse_header(line.as_bytes()) {
                return h.get_value();
            }
        }
        return unfold(s);
    }
    unfold(&decode_text(raw, None))
}

/// Could the value hold an RFC 2047 encoded word (`=?`)? Runs for every
/// header read: a memchr for `=` with a look at the next byte costs less
/// than building a substring searcher (`str::contains`, `memmem::find`)
/// per call.
fn has_encoded_word(raw: &[u8]) -> bool {
    memchr::memchr_iter(b'=', raw).any(|i| raw.get(i + 1) == Some(&b'?'))
}

/// What mailparse's `get_value` makes of a value without encoded words
/// (no `=?`): each line with its leading whitespace trimmed, joined by one
/// space (its tokenizer and whitespace normalizer reduce to exactly this),
/// without building the token vectors for every header.
fn unfold_plain(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, line) in s.lines().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(line.trim_start());
    }
    out
}

/// ASCII without ESC: the same text in every charset we decode (ESC would
/// start an ISO-2022-JP shift).
fn is_plain_ascii(raw: &[u8]) -> bool {
    raw.is_ascii() && memchr::memchr(0x1b, raw).is_none()
}

fn unfold(s: &str) -> String {
    // Line ends found with memchr2 rather than a per-char pattern (this runs
    // for every header of every returned original). CR and LF are ASCII, so
    // every cut is on a char boundary.
    let b = s.as_bytes();
    if memchr::memchr2(b'\r', b'\n', b).is_none() {
        return s.trim().to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut start = 0;
    let mut first = true;
    for end in memchr::memchr2_iter(b'\r', b'\n', b).chain(std::iter::once(b.len())) {
        let line = &s[start..end];
        start = end + 1;
        // Empty pieces (CRLF, blank lines) add nothing, not even a space.
        if line.is_empty() {
            continue;
        }
        if !first {
            out.push(' ');
        }
        first = false;
        out.push_str(line.trim());
    }
    out
}

/// Decodes bytes in a charset: the declared one if known, otherwise
/// detected among UTF-8, ISO-2022-JP, Shift_JIS and EUC-JP.
pub fn decode_text(raw: &[u8], declared: Option<&str>) -> String {
    if is_plain_ascii(raw) {
        // ASCII is valid UTF-8: a plain copy, without the lossy decoder's
        // chunk-by-chunk walk.
        return std::str::from_utf8(raw).unwrap_or_default().to_owned();
    }
    if let Some(label) = declared {
        let label = label.trim().trim_matches('"');
        // Japanese mail labelled Shift_JIS often uses CP932 extensions;
        // encoding_rs's Shift_JIS is the WHATWG one, which is CP932.
        if let Some(enc) = encoding_rs::Encoding::for_label(label.as_bytes()) {
            if enc != encoding_rs::UTF_8 || std::str::from_utf8(raw).is_ok() {
                let (text, _, _) = enc.decode(raw);
                return text.into_owned();
            }
        }
    }
    if let Ok(s) = std::str::from_utf8(raw) {
        if memchr::memchr(0x1b, raw).is_none() {
            return s.to_string();
        }
    }
    if memchr::memmem::find(raw, b"\x1b$B").is_some()
        || memchr::memmem::find(raw, b"\x1b$@").is_some()
    {
        return encoding_rs::ISO_2022_JP.decode(raw).0.into_owned();
    }
    // Shift_JIS or EUC-JP: take the one that decodes without errors.
    let (sjis, _, sjis_bad) = encoding_rs::SHIFT_JIS.decode(raw);
    if !sjis_bad {
        return sjis.into_owned();
    }
    let (euc, _, euc_bad) = encoding_rs::EUC_JP.decode(raw);
    if !euc_bad {
        return euc.into_owned();
    }
    String::from_utf8_lossy(raw).into_owned()
}

/// Crude HTML → text: drops tags, scripts and styles, decodes the common
/// entities, turns block ends into line breaks. Enough for bounce texts that
/// come only as HTML (Exchange/Office 365).
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let lower = html.to_ascii_lowercase();
    let mut i = 0;
    let b = html.as_bytes();
    while i < b.len() {
        if b[i] == b'<' {
            let rest = &lower[i..];
            for skip in ["<script", "<style"] {
                if rest.starts_with(skip) {
                    let close = if skip == "<script" {
                        "</script>"
                    } else {
                        "</style>"
                    };
                    i = lower[i..]
                        .find(close)
                        .map_or(b.len(), |p| i + p + close.len());
                    break;
                }
            }
            if i >= b.len() {
                break;
            }
            if b[i] != b'<' {
                continue;
            }
            let end = html[i..].find('>').map_or(b.len(), |p| i + p + 1);
            let tag = &lower[i..end];
            if tag.starts_with("<br")
                || tag.starts_with("</p")
                || tag.starts_with("</div")
                || tag.starts_with("</tr")
                || tag.starts_with("<p")
                || tag.starts_with("</h")
                || tag.starts_with("</li")
                || tag.starts_with("</td")
            {
                out.push('\n');
            }
            i = end;
        } else {
            let next = html[i..].find('<').map_or(b.len(), |p| i + p);
            out.push_str(&html[i..next]);
            i = next;
        }
    }
    out.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_unfold_matches_mailparse() {
        for v in [
            "",
            "plain",
            "  lead and trail  ",
            "from a.example (a.example [192.0.2.1])\r\n\tby b.example with ESMTP id X\r\n\tfor <c@d.example>; Mon, 6 Jan 2025 09:00:00 +0900",
            "one\n  \n two\n",
            "ends with space \n\tnext",
            "cr\ronly\r\n x",
        ] {
            let line = format!("X: {v}\n\n");
            let (h, _) = mailparse::parse_header(line.as_bytes()).unwrap();
            assert_eq!(
                unfold_plain(std::str::from_utf8(h.get_value_raw()).unwrap()),
                h.get_value(),
                "{v:?}"
            );
        }
    }

    #[test]
    fn japanese_charsets_are_detected() {
        let s = "アドレスが変わりました";
        let (iso, _, _) = encoding_rs::ISO_2022_JP.encode(s);
        let (sj, _, _) = encoding_rs::SHIFT_JIS.encode(s);
        let (euc, _, _) = encoding_rs::EUC_JP.encode(s);
        assert_eq!(decode_text(&iso, None), s);
        assert_eq!(decode_text(&sj, None), s);
        assert_eq!(decode_text(&euc, None), s);
        assert_eq!(decode_text(s.as_bytes(), None), s);
        assert_eq!(decode_text(&sj, Some("Shift_JIS")), s);
    }

    #[test]
    fn encoded_and_raw_headers() {
        assert_eq!(
            decode_header_bytes(b"=?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?="),
            "テスト"
        );
        assert_eq!(decode_header_bytes("件名 test".as_bytes()), "件名 test");
        assert_eq!(decode_header_bytes(b"a\n b"), "a b");
    }

    #[test]
    fn cr_only_is_normalized() {
        assert_eq!(
            &*normalize(b"A: 1\rB: 2\r\rbody\r"),
            b"A: 1\nB: 2\n\nbody\n"
        );
        assert!(matches!(normalize(b"A: 1\r\n\r\nx"), Cow::Borrowed(_)));
    }

    #[test]
    fn html_is_flattened() {
        assert_eq!(
            html_to_text("<p>Delivery&nbsp;failed</p><style>x{}</style><br>a&amp;b"),
            "\nDelivery failed\n\na&b"
        );
    }

    #[test]
    fn broken_mime_does_not_panic() {
        for m in [
            &b""[..],
            b"\xff\xfe",
            b"Content-Type: multipart/mixed; boundary=\"\n\n--\n",
            b"A: b\n\n--x--",
        ] {
            if let Ok(p) = parse(m) {
                let _ = p.text();
                let _ = p.parts().len();
            }
        }
    }
}
