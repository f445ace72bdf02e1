//! Stage 4: a bounce-like message → `Parsed`, a MIME tree with the views the
//! decoders need.
//!
//! The MIME structure is read here, by our own reader: header fields are
//! slices of the message (name, raw folded value), every entity of the tree
//! sits in one flat list in document order, and bodies are transfer-decoded
//! only when a decoder asks for them. A bounce is small and mostly ASCII;
//! a general-purpose parser that decodes every header and body up front
//! spent a sixth of the per-bounce time here. mailparse is kept for what
//! it does well and we need rarely: RFC 2047 encoded words of the less
//! common forms (the common ones are decoded here, to its exact output).
//!
//! Text is decoded once: header values (RFC 2047 and raw 8-bit), and bodies
//! in their declared charset — or, when none is declared, UTF-8,
//! ISO-2022-JP, Shift_JIS or EUC-JP as detected. Undecodable bytes become
//! U+FFFD; nothing here fails on bad input. Structural damage (a multipart
//! without its boundary) is noted in `defect` and the message read as well
//! as it can be.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::sync::OnceLock;

use memchr::memmem;

/// Messages larger than this are read on their first 16 MiB only: a
/// bounce carries what matters early, and an attacker's 100 MB message
/// must not cost 100 MB of decoding.
const MAX_PARSE: usize = 16 << 20;

/// Multiparts nested deeper than this are read as single parts.
const MAX_DEPTH: u32 = 32;

/// One header field: the name and the raw value (leading blanks and the
/// final CR dropped, folds kept), both slices of the message.
#[derive(Clone, Copy)]
struct Field<'a> {
    name: &'a [u8],
    value: &'a [u8],
}

/// Content-Transfer-Encoding, as far as decoding is concerned.
#[derive(Clone, Copy, PartialEq)]
enum Transfer {
    Identity,
    Base64,
    QuotedPrintable,
}

/// One MIME entity: the message itself, a multipart container or a leaf.
struct Entity<'a> {
    /// Its header fields: a range of `Parsed::fields`.
    fields: std::ops::Range<usize>,
    /// Lowercase MIME type (`text/plain` when none is declared).
    mimetype: Cow<'static, str>,
    /// The raw Content-Type value, for its parameters.
    ctype: &'a [u8],
    transfer: Transfer,
    /// The body (for a multipart: its preamble).
    body: &'a [u8],
    /// True when the entity has no child entities.
    leaf: bool,
}

/// A parsed message and lazily built text views.
pub struct Parsed<'a> {
    raw: &'a [u8],
    /// Header fields of every entity, in document order.
    fields: Vec<Field<'a>>,
    /// Every entity in document order; `[0]` is the message.
    entities: Vec<Entity<'a>>,
    /// What was wrong with the structure, if anything.
    defect: Option<&'static str>,
    /// Borrowed from the message when it is one part of plain ASCII.
    text: OnceCell<Cow<'a, str>>,
}

/// One leaf part of the MIME tree.
pub struct Part<'p, 'a> {
    /// Lowercase MIME type, e.g. `message/delivery-status`.
    pub mimetype: &'p str,
    entity: &'p Entity<'a>,
}

impl<'p, 'a> Part<'p, 'a> {
    /// The part's body after transfer decoding, as bytes: borrowed from the
    /// message unless it was base64 or quoted-printable.
    pub fn raw(&self) -> Cow<'a, [u8]> {
        let body: &'a [u8] = self.entity.body;
        match self.entity.transfer {
            Transfer::Identity => Cow::Borrowed(body),
            Transfer::Base64 => Cow::Owned(decode_base64(body)),
            Transfer::QuotedPrintable => Cow::Owned(decode_quoted_printable(body)),
        }
    }

    /// The part's body as text in its declared (or detected) charset.
    pub fn text(&self) -> Cow<'a, str> {
        // Plain ASCII (most bounces) is already UTF-8 in every charset
        // `decode_text` knows: kept as it is (borrowed from the message, or
        // the transfer-decoded buffer itself), and the charset parameter is
        // not read.
        let raw = match self.raw() {
            Cow::Owned(v) => match plain_ascii_string(v) {
                Ok(text) => return Cow::Owned(text),
                Err(v) => Cow::Owned(v),
            },
            Cow::Borrowed(b) => match plain_ascii_str(b) {
                Some(text) => return Cow::Borrowed(text),
                None => Cow::Borrowed(b),
            },
        };
        Cow::Owned(decode_text(&raw, self.charset().as_deref()))
    }

    fn charset(&self) -> Option<Cow<'p, str>> {
        param(self.entity.ctype, "charset")
    }
}

/// Parses a message. Never fails: what is not a header block is body, and
/// a damaged structure is read as far as it goes (see `defect`).
pub fn parse(bytes: &[u8]) -> Parsed<'_> {
    let mut p = Parsed::unread(bytes);
    p.read_entity(p.raw, 0, false);
    p
}

/// `parse` of a message whose top-level header fields triage has already
/// found (`layout`, from `triage::triage_keeping` of these same bytes): the
/// header block is not walked again.
pub fn parse_with<'a>(bytes: &'a [u8], layout: &crate::triage::HeaderLayout) -> Parsed<'a> {
    let Some((spans, body_at)) = layout.fields() else {
        return parse(bytes);
    };
    let mut p = Parsed::unread(bytes);
    let raw = p.raw;
    // Each field as `read_fields` reads it: the name up to the colon, the
    // value from after the blanks that follow the colon to the end of its
    // last line (line end dropped; a clean walk ends every field in one).
    for (start, colon, end) in spans {
        let mut v = colon + 1;
        while raw[v] == b' ' || raw[v] == b'\t' {
            v += 1;
        }
        let mut value_end = end - 1;
        if raw[value_end - 1] == b'\r' {
            value_end -= 1;
        }
        p.fields.push(Field {
            name: &raw[start..colon],
            value: &raw[v..value_end.max(v)],
        });
    }
    p.read_body(raw, 0, body_at, 0, false);
    p
}

/// Line ends our reader and the decoders understand (LF or CRLF): CR-only
/// mail is rewritten to LF, and mbox `>From ` quoting is undone. Borrowed
/// when nothing changes.
pub fn normalize(bytes: &[u8]) -> Cow<'_, [u8]> {
    normalize_unquoted(crate::mailbox::mbox::unquote_from(bytes))
}

/// `normalize` of a message whose `>From ` quoting is already undone.
pub fn normalize_unquoted(unquoted: Cow<'_, [u8]>) -> Cow<'_, [u8]> {
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
    /// A message of `bytes` (cut at `MAX_PARSE`) with nothing read yet.
    fn unread(bytes: &'a [u8]) -> Parsed<'a> {
        Parsed {
            raw: &bytes[..bytes.len().min(MAX_PARSE)],
            fields: Vec::with_capacity(32),
            entities: Vec::with_capacity(4),
            defect: None,
            text: OnceCell::new(),
        }
    }

    /// Reads one entity and, for a multipart, its children (depth first,
    /// so `entities` is in document order).
    fn read_entity(&mut self, raw: &'a [u8], depth: u32, in_digest: bool) {
        let first = self.fields.len();
        let body_at = read_fields(raw, &mut self.fields);
        self.read_body(raw, first, body_at, depth, in_digest);
    }

    /// `read_entity` once its header fields are read: `fields[first..]`,
    /// the body at `body_at`.
    fn read_body(
        &mut self,
        raw: &'a [u8],
        first: usize,
        body_at: usize,
        depth: u32,
        in_digest: bool,
    ) {
        let fields = first..self.fields.len();
        let mut ctype: &'a [u8] = b"";
        let mut transfer = Transfer::Identity;
        let mut seen_ctype = false;
        for f in &self.fields[fields.clone()] {
            if !seen_ctype && f.name.eq_ignore_ascii_case(b"content-type") {
                ctype = f.value;
                seen_ctype = true;
            } else if transfer == Transfer::Identity
                && f.name.eq_ignore_ascii_case(b"content-transfer-encoding")
            {
                transfer = transfer_of(f.value);
            }
        }
        let mimetype = if seen_ctype {
            mimetype_of(ctype)
        } else if in_digest {
            Cow::Borrowed("message/rfc822")
        } else {
            Cow::Borrowed("text/plain")
        };
        let body = &raw[body_at..];
        let index = self.entities.len();
        let multipart = mimetype.starts_with("multipart/");
        let digest = mimetype == "multipart/digest";
        self.entities.push(Entity {
            fields,
            mimetype,
            ctype,
            transfer,
            body,
            leaf: true,
        });
        if !multipart || body.is_empty() {
            return;
        }
        let Some(boundary) = param(ctype, "boundary").filter(|b| !b.is_empty()) else {
            self.defect
                .get_or_insert("a multipart without a boundary, read as one part");
            return;
        };
        if depth >= MAX_DEPTH {
            self.defect
                .get_or_insert("multiparts nested too deep, the innermost read as one part");
            return;
        }
        let mut parts = split_multipart(body, boundary.as_bytes());
        if parts.is_none() {
            // The declared boundary is not in the body (a rewritten
            // header): a delimiter line that recurs in the body is the
            // real one.
            parts = body_boundary(body).and_then(|b| split_multipart(body, b));
            self.defect.get_or_insert(if parts.is_some() {
                "the declared boundary never occurs; read with the delimiter the body uses"
            } else {
                "a multipart whose boundary never occurs, read as one part"
            });
        }
        let Some((preamble, parts)) = parts else {
            return;
        };
        self.entities[index].body = preamble;
        self.entities[index].leaf = parts.is_empty();
        for part in parts {
            self.read_entity(part, depth + 1, digest);
        }
    }

    /// Top-level header fields named `name` (ASCII case ignored), in order.
    fn named<'p, 'n>(&'p self, name: &'n str) -> impl Iterator<Item = &'p Field<'a>> + 'n
    where
        'p: 'n,
    {
        self.fields[self.entities[0].fields.clone()]
            .iter()
            .filter(move |f| f.name.eq_ignore_ascii_case(name.as_bytes()))
    }

    /// A top-level header, decoded; None when absent.
    pub fn header(&self, name: &str) -> Option<String> {
        self.named(name).next().map(|f| header_text(f.value))
    }

    /// All values of a top-level header, decoded.
    pub fn headers_all(&self, name: &str) -> Vec<String> {
        self.named(name).map(|f| header_text(f.value)).collect()
    }

    /// All values of a top-level header as raw bytes (not decoded, still
    /// folded): for cheap byte tests before decoding (an iterator: a sniff
    /// asks it of every bounce, and most stop at the first value).
    pub fn headers_all_raw<'p>(&'p self, name: &'p str) -> impl Iterator<Item = &'a [u8]> + 'p {
        self.named(name).map(|f| f.value)
    }

    /// The message's bytes, as parsed.
    pub fn raw_message(&self) -> &'a [u8] {
        self.raw
    }

    /// Top-level lowercase MIME type.
    pub fn mimetype(&self) -> &str {
        &self.entities[0].mimetype
    }

    /// A top-level content-type parameter, e.g. `report-type`.
    pub fn ctype_param(&self, name: &str) -> Option<Cow<'a, str>> {
        param(self.entities[0].ctype, name)
    }

    /// What was wrong with the MIME structure, if anything: the message is
    /// still read, as far as its structure goes.
    pub fn defect(&self) -> Option<&'static str> {
        self.defect
    }

    /// Leaf parts in document order (message/* parts are leaves).
    pub fn parts(&self) -> Vec<Part<'_, 'a>> {
        self.leaves().collect()
    }

    /// Leaf parts in document order, one at a time: a search for one part
    /// need not collect them all (a message can hold millions).
    pub fn leaves(&self) -> impl Iterator<Item = Part<'_, 'a>> {
        self.entities.iter().filter(|e| e.leaf).map(|e| Part {
            mimetype: &e.mimetype,
            entity: e,
        })
    }

    /// The first leaf part of one of these MIME types.
    pub fn part(&self, types: &[&str]) -> Option<Part<'_, 'a>> {
        self.leaves().find(|p| types.contains(&p.mimetype))
    }

    /// The human-readable text: all text/plain parts (text/html made plain
    /// when there is no text/plain), decoded, joined by blank lines. Parts of
    /// a returned message (inside message/rfc822) are not included.
    pub fn text(&self) -> &str {
        self.text.get_or_init(|| {
            let mut out = Cow::Borrowed("");
            let mut plain = false;
            for p in self.leaves().filter(|p| p.mimetype == "text/plain") {
                if plain {
                    let out = out.to_mut();
                    out.push_str("\n\n");
                    out.push_str(&p.text());
                } else {
                    // The first part is the text (most messages have one):
                    // kept as it is, not copied.
                    out = p.text();
                }
                plain = true;
            }
            if plain {
                return out;
            }
            if let Some(h) = self.part(&["text/html"]) {
                return Cow::Owned(html_to_text(&h.text()));
            }
            let mut leaves = self.leaves();
            match (leaves.next(), leaves.next()) {
                // Non-MIME or odd types (application/octet-stream from old MTAs).
                (Some(only), None) if !only.mimetype.starts_with("message/") => only.text(),
                _ => out,
            }
        })
    }
}

/// Reads the header block at the start of `raw` into `out`; returns where
/// the body starts (after the blank line, or the end). Lenient as mail
/// readers must be: a line without a colon continues the field before it
/// (or, first in the block, is a field with an empty value), a
/// continuation line with no field before it is dropped.
fn read_fields<'a>(raw: &'a [u8], out: &mut Vec<Field<'a>>) -> usize {
    let mut at = 0;
    let mut current: Option<(usize, usize)> = None; // (name end, value start) of the open field
    let mut field_start = 0;
    let mut value_end = 0;
    let close =
        |out: &mut Vec<Field<'a>>, open: Option<(usize, usize)>, start: usize, end: usize| {
            if let Some((name_end, value_start)) = open {
                out.push(Field {
                    name: &raw[start..name_end],
                    value: &raw[value_start..end.max(value_start)],
                });
            }
        };
    while at < raw.len() {
        let nl = memchr::memchr(b'\n', &raw[at..]).map_or(raw.len(), |i| at + i);
        let mut line_end = nl;
        if line_end > at && raw[line_end - 1] == b'\r' {
            line_end -= 1;
        }
        let next = (nl + 1).min(raw.len());
        if line_end == at {
            // The blank line: the body follows.
            close(out, current, field_start, value_end);
            return next;
        }
        let line = &raw[at..line_end];
        let folded = raw[at] == b' ' || raw[at] == b'\t';
        // (A folded line's colon does not matter: not searched for.)
        let colon = if folded {
            None
        } else {
            memchr::memchr(b':', line)
        };
        // A folded line, or a line without a colon after a field: a fold
        // that lost its indent (`boundary="..."` alone on a line is seen
        // in real bounces), so it continues the field.
        if folded || (colon.is_none() && current.is_some()) {
            if current.is_some() {
                value_end = line_end;
            }
        } else {
            close(out, current, field_start, value_end);
            field_start = at;
            match colon {
                Some(colon) => {
                    let mut v = at + colon + 1;
                    while v < line_end && (raw[v] == b' ' || raw[v] == b'\t') {
                        v += 1;
                    }
                    current = Some((at + colon, v));
                }
                None => current = Some((line_end, line_end)),
            }
            value_end = line_end;
        }
        at = next;
    }
    close(out, current, field_start, value_end);
    raw.len()
}

/// The lowercase type of a Content-Type value; the common ones without an
/// allocation.
fn mimetype_of(value: &[u8]) -> Cow<'static, str> {
    const KNOWN: &[&str] = &[
        "text/plain",
        "text/html",
        "multipart/report",
        "multipart/mixed",
        "multipart/alternative",
        "multipart/related",
        "message/delivery-status",
        "message/global-delivery-status",
        "message/rfc822",
        "message/global",
        "message/feedback-report",
        "text/rfc822-headers",
        "message/rfc822-headers",
        "message/disposition-notification",
        "application/octet-stream",
    ];
    let end = memchr::memchr(b';', value).unwrap_or(value.len());
    let t = value[..end].trim_ascii();
    if let Some(k) = KNOWN.iter().find(|k| t.eq_ignore_ascii_case(k.as_bytes())) {
        return Cow::Borrowed(k);
    }
    Cow::Owned(String::from_utf8_lossy(t).to_ascii_lowercase())
}

fn transfer_of(value: &[u8]) -> Transfer {
    let v = value.trim_ascii();
    if v.eq_ignore_ascii_case(b"base64") {
        Transfer::Base64
    } else if v.eq_ignore_ascii_case(b"quoted-printable") {
        Transfer::QuotedPrintable
    } else {
        Transfer::Identity
    }
}

/// A parameter of a Content-Type value (`charset`, `boundary`,
/// `report-type`), quotes removed. RFC 2231 continuations (`name*0=`) are
/// joined; a charset-tagged value (`name*=utf-8''...`) is percent-decoded.
fn param<'a>(value: &'a [u8], name: &str) -> Option<Cow<'a, str>> {
    let mut pieces: Vec<Cow<'a, [u8]>> = Vec::new();
    let mut extended = false;
    // The first segment is the type itself.
    let mut rest = memchr::memchr(b';', value).map_or(&b""[..], |i| &value[i + 1..]);
    while let Some((key, v)) = next_param(&mut rest) {
        if key.eq_ignore_ascii_case(name.as_bytes()) {
            return Some(match v {
                // Parameters are ASCII: checked at once, not chunk by chunk.
                Cow::Borrowed(v) => match ascii_str(v) {
                    Some(s) => Cow::Borrowed(s),
                    None => String::from_utf8_lossy(v),
                },
                Cow::Owned(v) => Cow::Owned(String::from_utf8_lossy(&v).into_owned()),
            });
        }
        // RFC 2231: name*, name*0, name*0*, name*1 ...
        let Some(rest) = key
            .get(..name.len())
            .filter(|k| k.eq_ignore_ascii_case(name.as_bytes()))
            .and_then(|_| key.get(name.len()..))
            .filter(|r| r.first() == Some(&b'*'))
        else {
            continue;
        };
        extended |= rest.ends_with(b"*") && (rest == b"*" || rest.starts_with(b"*0"));
        pieces.push(v);
    }
    if pieces.is_empty() {
        return None;
    }
    let joined: Vec<u8> = pieces.concat();
    if !extended {
        return Some(Cow::Owned(String::from_utf8_lossy(&joined).into_owned()));
    }
    // charset'language'percent-encoded
    let mut it = joined.splitn(3, |&b| b == b'\'');
    let (charset, _, text) = (it.next(), it.next(), it.next());
    let (charset, text) = match text {
        Some(t) => (charset.unwrap_or_default(), t),
        None => (&b""[..], &joined[..]),
    };
    let bytes = percent_decode(text);
    let label = std::str::from_utf8(charset).ok();
    Some(Cow::Owned(decode_text(
        &bytes,
        label.filter(|l| !l.is_empty()),
    )))
}

/// The next `name=value` parameter of the `;`-separated list in `rest`
/// (segments without `=` are skipped), and `rest` moved past it: the name
/// trimmed, the value trimmed and unquoted. A value that is an RFC 2045
/// quoted-string ends at its closing quote, not at a `;` inside it
/// (`boundary="a;b"`, `name="x; y.txt"`), and its backslash escapes
/// (RFC 822 quoted-pair, `\"`) are undone. A quote that is never closed, or
/// text after the closing quote, is read as before quoting was known: the
/// value runs to the next `;`, and loses its quotes only when it starts
/// and ends with one.
fn next_param<'a>(rest: &mut &'a [u8]) -> Option<(&'a [u8], Cow<'a, [u8]>)> {
    loop {
        let r: &'a [u8] = rest;
        if r.is_empty() {
            return None;
        }
        let semi = memchr::memchr(b';', r).unwrap_or(r.len());
        let Some(eq) = memchr::memchr(b'=', &r[..semi]) else {
            *rest = r.get(semi + 1..).unwrap_or_default();
            continue;
        };
        let key = r[..eq].trim_ascii();
        let start = eq
            + 1
            + r[eq + 1..]
                .iter()
                .take_while(|b| b.is_ascii_whitespace())
                .count();
        if r.get(start) == Some(&b'"') {
            if let Some(close) = closing_quote(r, start + 1) {
                let end = memchr::memchr(b';', &r[close..]).map_or(r.len(), |i| close + i);
                if r[close + 1..end].trim_ascii().is_empty() {
                    *rest = r.get(end + 1..).unwrap_or_default();
                    return Some((key, unescape(&r[start + 1..close])));
                }
                *rest = r.get(end + 1..).unwrap_or_default();
                return Some((
                    key,
                    Cow::Borrowed(strip_quotes(r[eq + 1..end].trim_ascii())),
                ));
            }
        }
        *rest = r.get(semi + 1..).unwrap_or_default();
        return Some((
            key,
            Cow::Borrowed(strip_quotes(r[eq + 1..semi].trim_ascii())),
        ));
    }
}

/// Where the quoted string whose content starts at `from` closes: the next
/// `"` not escaped by a backslash.
fn closing_quote(s: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while let Some(j) = s.get(i..).and_then(|r| memchr::memchr2(b'\\', b'"', r)) {
        match s[i + j] {
            b'"' => return Some(i + j),
            _ => i += j + 2,
        }
    }
    None
}

/// The content of a quoted string with its quoted-pairs (`\x`) undone;
/// borrowed when there is none.
fn unescape(s: &[u8]) -> Cow<'_, [u8]> {
    if memchr::memchr(b'\\', s).is_none() {
        return Cow::Borrowed(s);
    }
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.iter();
    while let Some(&b) = bytes.next() {
        match b {
            b'\\' => out.extend(bytes.next()),
            _ => out.push(b),
        }
    }
    Cow::Owned(out)
}

/// A value without the quotes around it, if it starts and ends with one.
fn strip_quotes(v: &[u8]) -> &[u8] {
    if v.len() > 1 && v[0] == b'"' && v[v.len() - 1] == b'"' {
        &v[1..v.len() - 1]
    } else {
        v
    }
}

fn percent_decode(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%' {
            if let (Some(h), Some(l)) = (
                s.get(i + 1).and_then(|&c| hex(c)),
                s.get(i + 2).and_then(|&c| hex(c)),
            ) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(s[i]);
        i += 1;
    }
    out
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Splits a multipart body at its delimiter lines (`--boundary` at the
/// start of a line, followed by blanks, a line end, or `--` for the last).
/// Returns the preamble and the parts, each without the line end before the
/// next delimiter; None when the boundary never occurs. A body cut short
/// (no closing delimiter, common in truncated bounces) ends its last part
/// at the end of the message.
fn split_multipart<'a>(body: &'a [u8], boundary: &[u8]) -> Option<(&'a [u8], Vec<&'a [u8]>)> {
    let delim_len = boundary.len() + 2;
    let candidates = DelimCandidates::new(body, boundary);
    // Finds the next delimiter line at or after `from`: (its start, whether
    // it closes the multipart, where the line after it starts).
    let next_delim = |from: usize| -> Option<(usize, bool, usize)> {
        let mut at = from;
        while let Some(start) = candidates.find(at) {
            at = start + 1;
            let after = start + delim_len;
            let rest = &body[after..];
            let closes = rest.starts_with(b"--");
            let tail = if closes { &rest[2..] } else { rest };
            let line_len = memchr::memchr(b'\n', tail).unwrap_or(tail.len());
            if !closes
                && !tail[..line_len]
                    .iter()
                    .all(|&b| b == b' ' || b == b'\t' || b == b'\r')
            {
                // `--boundary-more`: another boundary that starts like ours.
                continue;
            }
            let line_end = after + (rest.len() - tail.len()) + line_len;
            return Some((start, closes, (line_end + 1).min(body.len())));
        }
        None
    };
    let strip_eol = |start: usize, mut end: usize| {
        if end > start && body[end - 1] == b'\n' {
            end -= 1;
            if end > start && body[end - 1] == b'\r' {
                end -= 1;
            }
        }
        &body[start..end]
    };
    let (first, mut closes, mut part_start) = next_delim(0)?;
    let preamble = strip_eol(0, first);
    let mut parts = Vec::new();
    while !closes && part_start < body.len() {
        match next_delim(part_start) {
            Some((start, c, after)) => {
                parts.push(strip_eol(part_start, start));
                closes = c;
                part_start = after;
            }
            None => {
                parts.push(&body[part_start..]);
                break;
            }
        }
    }
    Some((preamble, parts))
}

/// Where `--boundary` starts a line of a multipart body. Most boundaries
/// are searched for as a line start (`\n--`, a searcher built once) and
/// compared at each hit: building a substring searcher for every
/// multipart's own boundary cost more than the search. A boundary holding a
/// line end (a hostile folded header) could make those comparisons overlap
/// and grow with the square of the body; it gets its own searcher.
struct DelimCandidates<'b> {
    body: &'b [u8],
    boundary: &'b [u8],
    /// `--boundary`, searched for as a whole (a boundary with a line end).
    own: Option<memmem::Finder<'static>>,
}

impl<'b> DelimCandidates<'b> {
    fn new(body: &'b [u8], boundary: &'b [u8]) -> Self {
        let own = memchr::memchr2(b'\n', b'\r', boundary).map(|_| {
            let mut delim = Vec::with_capacity(boundary.len() + 2);
            delim.extend_from_slice(b"--");
            delim.extend_from_slice(boundary);
            memmem::Finder::new(&delim).into_owned()
        });
        DelimCandidates {
            body,
            boundary,
            own,
        }
    }

    /// The first position at or after `from` where `--boundary` starts the
    /// body or follows a line feed.
    fn find(&self, from: usize) -> Option<usize> {
        let body = self.body;
        if let Some(finder) = &self.own {
            let mut at = from;
            while let Some(i) = finder.find(body.get(at..)?) {
                let start = at + i;
                if start == 0 || body[start - 1] == b'\n' {
                    return Some(start);
                }
                at = start + 1;
            }
            return None;
        }
        let is_delim = |at: usize| {
            body.get(at..)
                .is_some_and(|r| r.starts_with(b"--") && r[2..].starts_with(self.boundary))
        };
        if from == 0 && is_delim(0) {
            return Some(0);
        }
        static LINE_DASHES: OnceLock<memmem::Finder<'static>> = OnceLock::new();
        let finder = LINE_DASHES.get_or_init(|| memmem::Finder::new(b"\n--"));
        // Searched from the line feed before `from`, which a delimiter
        // right at `from` follows.
        let mut at = from.saturating_sub(1);
        while let Some(i) = finder.find(body.get(at..)?) {
            let start = at + i + 1;
            if is_delim(start) {
                return Some(start);
            }
            at = start;
        }
        None
    }
}

/// The boundary a multipart body really uses when its declared one is
/// absent: the first `--x` line (no blanks in `x`) that occurs again, as
/// `--x` or `--x--`, at the start of a later line. Only the first lines
/// and a few candidates are tried: each test searches the rest of the body.
fn body_boundary(body: &[u8]) -> Option<&[u8]> {
    let mut at = 0;
    let mut candidates = 0;
    for _ in 0..200 {
        let rest = body.get(at..)?;
        let nl = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
        let line = rest[..nl].strip_suffix(b"\r").unwrap_or(&rest[..nl]);
        if let Some(b) = line.strip_prefix(b"--") {
            let b = b.strip_suffix(b"--").unwrap_or(b);
            let recurs = |b: &[u8]| {
                let mut needle = Vec::with_capacity(b.len() + 3);
                needle.extend_from_slice(b"\n--");
                needle.extend_from_slice(b);
                memmem::find(&body[at + nl..], &needle).is_some()
            };
            if b.len() >= 4 && !b.iter().any(|c| c.is_ascii_whitespace()) {
                if recurs(b) {
                    return Some(b);
                }
                candidates += 1;
                if candidates == 8 {
                    return None;
                }
            }
        }
        at += nl + 1;
    }
    None
}

/// Base64, leniently: whitespace and stray characters are skipped, decoding
/// stops at padding. A damaged line costs its own bytes, not the part.
fn decode_base64(s: &[u8]) -> Vec<u8> {
    // (Room for the bits of a last, unpadded quantum too: a vector grown
    // by one byte at the end costs a copy of it all.)
    let mut out = Vec::with_capacity(s.len() / 4 * 3 + 2);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &c in s {
        let v = BASE64_VALUE[usize::from(c)];
        if v >= 64 {
            if v == BASE64_PAD {
                // Padding ends a run; keep going in case parts were
                // concatenated (some MTAs encode line by line).
                acc = 0;
                bits = 0;
            }
            continue;
        }
        acc = acc << 6 | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

/// `BASE64_VALUE` of `=`; other bytes outside the alphabet are 0xFF.
const BASE64_PAD: u8 = 0xFE;

/// The value of each base64 symbol (one lookup per byte, where a chain of
/// range tests cost several).
const BASE64_VALUE: [u8; 256] = {
    let mut t = [0xFF; 256];
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut i = 0;
    while i < 64 {
        t[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    t[b'=' as usize] = BASE64_PAD;
    t
};

/// Quoted-printable, leniently (RFC 2045 6.7): `=XX` is a byte, `=` at a
/// line end joins lines, trailing blanks on a line are dropped, an `=` that
/// starts neither is kept as it is; line ends become LF. 8-bit bytes that
/// should not be there are kept, not dropped.
fn decode_quoted_printable(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut start = 0;
    // The next `=` at or after where the reading is, searched for in the
    // rest of the text rather than line by line: most lines of QP text hold
    // none (a soft break ends only the long ones), and a memchr for each
    // line cost more in calls than the bytes it read. Each search starts
    // after the last `=` found, so the text is still read once.
    let mut next_eq = memchr::memchr(b'=', s);
    loop {
        // Lines are found with memchr: splitting byte by byte cost a third
        // of the decoding. (One memchr2 for the line end or a first = cost
        // more than it saved: the lines of QP text often hold one.)
        let end = memchr::memchr(b'\n', &s[start..]).map_or(s.len(), |i| start + i);
        let line = &s[start..end];
        let line = trim_end_blanks(line.strip_suffix(b"\r").unwrap_or(line));
        let (body, soft) = match line.strip_suffix(b"=") {
            Some(b) => (b, true),
            None => (line, false),
        };
        let body_end = start + body.len();
        if next_eq.is_some_and(|e| e < start) {
            next_eq = memchr::memchr(b'=', &s[start..]).map(|e| start + e);
        }
        let digit = |at: usize| if at < body_end { hex(s[at]) } else { None };
        let mut i = start;
        while let Some(eq) = next_eq.filter(|&e| e < body_end) {
            out.extend_from_slice(&s[i..eq]);
            match (digit(eq + 1), digit(eq + 2)) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i = eq + 3;
                }
                _ => {
                    out.push(b'=');
                    i = eq + 1;
                }
            }
            next_eq = memchr::memchr(b'=', &s[i..]).map(|e| i + e);
        }
        out.extend_from_slice(&s[i..body_end]);
        if end == s.len() {
            return out;
        }
        if !soft {
            out.push(b'\n');
        }
        start = end + 1;
    }
}

fn trim_end_blanks(s: &[u8]) -> &[u8] {
    let mut end = s.len();
    while end > 0 && (s[end - 1] == b' ' || s[end - 1] == b'\t') {
        end -= 1;
    }
    &s[..end]
}

/// Decodes one raw header value: RFC 2047 words by mailparse, raw 8-bit
/// bytes by charset detection (mailparse would read them as Latin-1).
pub fn header_text(raw: &[u8]) -> String {
    if let Some(text) = ascii_str(raw) {
        if !has_encoded_word(raw) {
            return unfold_plain(text);
        }
        return decode_encoded_words(raw);
    }
    let text = decode_text(raw, None);
    unfold(&text)
}

/// Decodes a raw header value given as bytes (from a returned original's
/// header block): RFC 2047 and raw 8-bit.
pub fn decode_header_bytes(raw: &[u8]) -> String {
    if let Some(text) = ascii_str(raw) {
        if has_encoded_word(raw) {
            return decode_encoded_words(raw);
        }
        return unfold_ascii(text);
    }
    unfold(&decode_text(raw, None))
}

/// `unfold` for an ASCII value, on the bytes (the common case for every
/// header of every returned original): no char-wise trim, and the output,
/// cut from ASCII, needs no UTF-8 check.
fn unfold_ascii(text: &str) -> String {
    let raw = text.as_bytes();
    let ws = |c: &u8| matches!(c, b'\t'..=b'\r' | b' ');
    let Some(first_break) = memchr::memchr2(b'\r', b'\n', raw) else {
        // One line (most values): trimmed, nothing to join.
        let a = raw.iter().position(|c| !ws(c)).unwrap_or(raw.len());
        let b = raw.iter().rposition(|c| !ws(c)).map_or(a, |i| i + 1);
        return text[a..b].to_owned();
    };
    let mut out = String::with_capacity(raw.len());
    let (mut start, mut first) = (0, true);
    let breaks = std::iter::once(first_break).chain(
        memchr::memchr2_iter(b'\r', b'\n', &raw[first_break + 1..]).map(|i| first_break + 1 + i),
    );
    for end in breaks.chain(std::iter::once(raw.len())) {
        let (from, piece) = (start, &raw[start..end]);
        start = end + 1;
        let a = piece.iter().position(|c| !ws(c)).unwrap_or(piece.len());
        let b = piece.iter().rposition(|c| !ws(c)).map_or(a, |i| i + 1);
        // Empty pieces (CRLF, blank lines) add nothing, not even a space.
        if piece.is_empty() {
            continue;
        }
        if !first {
            out.push(' ');
        }
        first = false;
        out.push_str(&text[from + a..from + b]);
    }
    out
}

/// RFC 2047 encoded words of an ASCII value, decoded by mailparse (and
/// the value unfolded, as mailparse does).
fn decode_encoded_words(raw: &[u8]) -> String {
    // mailparse's decoder slows with the square of the number of words: a
    // hostile 1 MB Subject would take minutes. A value longer than any real
    // one is decoded in pieces cut at blanks (joined by one space).
    const PIECE: usize = 8 << 10;
    // Within a piece the cost still grows with the square of its length
    // (mailparse counts characters from the start of the line for every
    // `=?`): 16 MB of `a=?` in 8 KiB pieces took 3.3 s. A value longer than
    // the header block triage reads (`MAX_HEADER`, 1 MiB) is cut in pieces
    // of 1 KiB: a third of the time.
    if raw.len() > PIECE {
        let piece = if raw.len() > crate::triage::MAX_HEADER {
            1 << 10
        } else {
            PIECE
        };
        let mut out = String::with_capacity(raw.len());
        let mut rest = raw;
        while !rest.is_empty() {
            let cut = if rest.len() <= piece {
                rest.len()
            } else {
                rest[..piece]
                    .iter()
                    .rposition(|b| b.is_ascii_whitespace())
                    .map_or(piece, |i| i + 1)
            };
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(decode_encoded_words(&rest[..cut]).trim());
            rest = &rest[cut..];
        }
        return out;
    }
    // The common words (base64 or Q text that is plainly valid, a charset
    // encoding_rs knows) are decoded here; mailparse, which allocates a
    // token and a string for each piece of the value, spent some 8,000
    // instructions on a Subject of one or two words. Anything else is its.
    if let Some(text) = ascii_str(raw).and_then(encoded_words_common) {
        return text;
    }
    let mut line = Vec::with_capacity(raw.len() + 3);
    line.extend_from_slice(b"X: ");
    line.extend_from_slice(raw);
    match mailparse::parse_header(&line) {
        Ok((h, _)) => h.get_value(),
        Err(_) => unfold(std::str::from_utf8(raw).unwrap_or_default()),
    }
}

/// What `mailparse::parse_header(b"X: " + raw).get_value()` gives for an
/// ASCII value, read the way mailparse 0.16 reads it (its tokenizer, its
/// whitespace rules, its quirks), when every encoded word in it is one of
/// the common forms; None (for mailparse to decode) otherwise. A
/// randomized test holds the two to the same output.
fn encoded_words_common(raw: &str) -> Option<String> {
    let b = raw.as_bytes();
    // `parse_header`'s value: after the spaces (not tabs) that follow the
    // colon, up to a line end not followed by a blank, without the CRs and
    // LFs at its end.
    let start = b.iter().position(|&c| c != b' ')?;
    let cut = memchr::memchr_iter(b'\n', &b[start..])
        .map(|i| start + i)
        .find(|&i| !matches!(b.get(i + 1), Some(b' ' | b'\t')))
        .unwrap_or(b.len());
    let value = raw[start..cut].trim_end_matches(['\r', '\n']);
    let mut out = Words {
        out: String::with_capacity(value.len()),
        saved: Saved::Nothing,
    };
    // `str::lines`, each line's leading white space trimmed, a newline
    // token between lines.
    for (n, line) in value.split_inclusive('\n').enumerate() {
        let line = line
            .strip_suffix('\n')
            .map_or(line, |l| l.strip_suffix('\r').unwrap_or(l));
        if n > 0 {
            out.newline();
        }
        words_of_line(line.trim_start(), &mut out)?;
    }
    Some(out.out)
}

/// mailparse's token stream, written out as it goes (its
/// `normalize_header_whitespace`): the white space between two encoded
/// words is dropped, a line break becomes a space.
struct Words<'v> {
    out: String,
    saved: Saved<'v>,
}

/// The token mailparse holds back, not yet known to be written.
enum Saved<'v> {
    Nothing,
    /// An encoded word was written.
    Decoded,
    /// White space after an encoded word.
    Space(&'v str),
    /// A line break after white space (or after an encoded word: ""), to
    /// be written as that space and one more.
    Newline(&'v str),
}

impl<'v> Words<'v> {
    fn text(&mut self, t: &str) {
        match std::mem::replace(&mut self.saved, Saved::Nothing) {
            Saved::Space(ws) => self.out.push_str(ws),
            Saved::Newline(ws) => {
                self.out.push_str(ws);
                self.out.push(' ');
            }
            Saved::Nothing | Saved::Decoded => {}
        }
        self.out.push_str(t);
    }

    fn space(&mut self, ws: &'v str) {
        if matches!(self.saved, Saved::Decoded) {
            self.saved = Saved::Space(ws);
        } else {
            self.out.push_str(ws);
            self.saved = Saved::Nothing;
        }
    }

    /// Text that may be white space only (mailparse's `maybe_whitespace`).
    fn piece(&mut self, t: &'v str) {
        if t.trim_end().is_empty() {
            self.space(t);
        } else {
            self.text(t);
        }
    }

    fn newline(&mut self) {
        self.saved = match std::mem::replace(&mut self.saved, Saved::Nothing) {
            Saved::Space(ws) => Saved::Newline(ws),
            Saved::Decoded => Saved::Newline(""),
            Saved::Nothing | Saved::Newline(_) => {
                self.out.push(' ');
                Saved::Nothing
            }
        };
    }

    /// An encoded word's bytes in its charset, decoded straight into the
    /// output (`decode_without_bom_handling` without a string of its own).
    fn decoded(&mut self, enc: &'static encoding_rs::Encoding, bytes: &[u8]) {
        self.saved = Saved::Decoded;
        let mut decoder = enc.new_decoder_without_bom_handling();
        let mut rest = bytes;
        loop {
            let room = decoder.max_utf8_buffer_length(rest.len());
            self.out.reserve(room.unwrap_or(rest.len()));
            let (result, read, _) = decoder.decode_to_string(rest, &mut self.out, true);
            rest = &rest[read..];
            if result == encoding_rs::CoderResult::InputEmpty {
                break;
            }
        }
    }
}

/// mailparse's `tokenize_header_line` on one (ASCII) line. None when a
/// word is not of the common forms.
fn words_of_line<'v>(line: &'v str, out: &mut Words<'v>) -> Option<()> {
    let b = line.as_bytes();
    // mailparse's `is_boundary` (on an ASCII line, its char index is the
    // byte index): out of the line, white space or `"()<>,`.
    let boundary = |i: Option<usize>| {
        i.and_then(|i| b.get(i)).is_none_or(|&c| {
            matches!(
                c,
                b'\t'..=b'\r' | b' ' | b'"' | b'(' | b')' | b'<' | b'>' | b','
            )
        })
    };
    // `str::find`, which builds a substring searcher for every call.
    let find = |from: usize, pat: &[u8; 2]| {
        memchr::memchr_iter(pat[0], &b[from..])
            .map(|i| from + i)
            .find(|&i| b.get(i + 1) == Some(&pat[1]))
    };
    let mut search = 0;
    loop {
        let Some(v) = find(search, b"=?") else {
            out.piece(&line[search..]);
            return Some(());
        };
        let begin = v + 2;
        if !boundary(begin.checked_sub(3)) {
            out.text(&line[search..begin]);
            search = begin;
            continue;
        }
        out.piece(&line[search..v]);
        let mut end_search = begin;
        loop {
            match find(end_search, b"?=") {
                Some(end) => {
                    if !boundary(end.checked_add(2)) {
                        end_search = end + 2;
                        continue;
                    }
                    if !decode_word_common(&line[begin..end], out)? {
                        out.text(&line[v..end + 2]);
                    }
                    search = end;
                }
                None => {
                    out.text("=?");
                    search = v;
                }
            }
            break;
        }
        search += 2;
    }
}

/// mailparse's `decode_word` for `charset?encoding?text`, the word
/// written to `out`: Some(true) when it was, Some(false) when it is no word
/// (kept as text), None when mailparse must decide (base64 or Q text that
/// is not plainly valid, a charset encoding_rs does not know).
fn decode_word_common(encoded: &str, out: &mut Words<'_>) -> Option<bool> {
    let Some((charset, rest)) = encoded.split_once('?') else {
        return Some(false);
    };
    let Some((coding, text)) = rest.split_once('?') else {
        return Some(false);
    };
    let bytes = match coding {
        "B" | "b" => base64_strict(text.as_bytes())?,
        "Q" | "q" => q_plain(text.as_bytes())?,
        _ => return Some(false),
    };
    let enc = encoding_rs::Encoding::for_label_no_replacement(charset.as_bytes())?;
    // (The charset crate mailparse decodes with reads GBK as GB18030.)
    let enc = if enc == encoding_rs::GBK {
        encoding_rs::GB18030
    } else {
        enc
    };
    out.decoded(enc, &bytes);
    Some(true)
}

/// Base64 of whole padded quanta in the standard alphabet, the padding only
/// at the end (what any base64 decoder reads alike; trailing bits are not
/// checked, as mailparse's `BASE64_MIME_PERMISSIVE` does not); None for
/// anything else.
fn base64_strict(s: &[u8]) -> Option<Vec<u8>> {
    if s.len() % 4 != 0 {
        return None;
    }
    let pad = s.iter().rev().take_while(|&&c| c == b'=').count();
    if pad > 2 {
        return None;
    }
    let body = &s[..s.len() - pad];
    if !body
        .iter()
        .all(|&c| c.is_ascii_alphanumeric() || c == b'+' || c == b'/')
    {
        return None;
    }
    Some(decode_base64(body))
}

/// RFC 2047 Q text of printable ASCII whose every `=` starts an `=XX` of
/// uppercase hex digits: `_` is a space, `=XX` a byte; None for anything
/// else (mailparse's QP decoder has its own ways with the rest).
fn q_plain(s: &[u8]) -> Option<Vec<u8>> {
    let upper_hex = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'=' => {
                let h = upper_hex(*s.get(i + 1)?)?;
                let l = upper_hex(*s.get(i + 2)?)?;
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
            b'_' => out.push(b' '),
            c @ b'!'..=b'~' => out.push(c),
            _ => return None,
        }
        i += 1;
    }
    Some(out)
}

/// Could the value hold an RFC 2047 encoded word (`=?`)? Runs for every
/// header read: most values hold no `=`, or one that starts a word, and a
/// memchr for `=` with a look at the next byte answers for them; values of
/// many `=` (Authentication-Results, DKIM) cost a memchr for each, so the
/// rest of those is searched for `=?` by a searcher built once.
pub(crate) fn has_encoded_word(raw: &[u8]) -> bool {
    let Some(i) = memchr::memchr(b'=', raw) else {
        return false;
    };
    if raw.get(i + 1) == Some(&b'?') {
        return true;
    }
    static WORD_START: OnceLock<memmem::Finder<'static>> = OnceLock::new();
    WORD_START
        .get_or_init(|| memmem::Finder::new(b"=?"))
        .find(&raw[i + 1..])
        .is_some()
}

/// What mailparse's `get_value` makes of a value without encoded words
/// (no `=?`): each line with its leading whitespace trimmed, joined by one
/// space (its tokenizer and whitespace normalizer reduce to exactly this),
/// without building the token vectors for every header.
fn unfold_plain(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    let mut first = true;
    // `str::lines`, with the line feeds found by memchr (its char searcher
    // cost more than the rest of this function).
    while !rest.is_empty() {
        let (line, next) = match memchr::memchr(b'\n', rest.as_bytes()) {
            Some(i) => (
                rest[..i].strip_suffix('\r').unwrap_or(&rest[..i]),
                &rest[i + 1..],
            ),
            None => (rest, ""),
        };
        if !first {
            out.push(' ');
        }
        first = false;
        out.push_str(line.trim_start());
        rest = next;
    }
    out
}

/// `raw` as text when it is ASCII: one pass, where `is_ascii` and then
/// `from_utf8` made two over every header value and body read.
pub(crate) fn ascii_str(raw: &[u8]) -> Option<&str> {
    if raw.is_ascii() {
        // SAFETY: ASCII bytes are valid UTF-8, checked just above.
        Some(unsafe { std::str::from_utf8_unchecked(raw) })
    } else {
        None
    }
}

/// `raw` as text when it is ASCII without ESC: the same text in every
/// charset we decode (ESC would start an ISO-2022-JP shift).
fn plain_ascii_str(raw: &[u8]) -> Option<&str> {
    ascii_str(raw).filter(|_| memchr::memchr(0x1b, raw).is_none())
}

/// `raw` as a string when it is ASCII without ESC: the same text in every
/// charset we decode (ESC would start an ISO-2022-JP shift). Given back
/// otherwise.
fn plain_ascii_string(raw: Vec<u8>) -> Result<String, Vec<u8>> {
    if raw.is_ascii() && memchr::memchr(0x1b, &raw).is_none() {
        // SAFETY: ASCII bytes are valid UTF-8, checked just above.
        Ok(unsafe { String::from_utf8_unchecked(raw) })
    } else {
        Err(raw)
    }
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
    if let Some(text) = plain_ascii_str(raw) {
        // Plain ASCII is the same text in every charset: a plain copy,
        // without the lossy decoder's chunk-by-chunk walk.
        return text.to_owned();
    }
    if let Some(label) = declared {
        let label = label.trim().trim_matches('"');
        // Japanese mail labelled Shift_JIS often uses CP932 extensions;
        // encoding_rs's Shift_JIS is the WHATWG one, which is CP932.
        if let Some(enc) = encoding_rs::Encoding::for_label(label.as_bytes()) {
            if enc == encoding_rs::ISO_2022_JP {
                return decode_iso_2022_jp(raw);
            }
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
        return decode_iso_2022_jp(raw);
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

/// `encoding_rs::ISO_2022_JP.decode`, with the ASCII between the escapes
/// copied rather than decoded byte by byte: Japanese bounces are mostly
/// English and ASCII, and the decoder's state machine spent some thirty
/// instructions on each such byte.
///
/// The decoder is in its initial state (ASCII, nothing pending, no escape
/// just seen) at the start and after any plain byte read in ASCII; a plain
/// byte there stands for itself. So the text is cut into runs of plain bytes
/// (copied) and escaped stretches (decoded, each by a new decoder) that end
/// just after an `ESC ( B` — after which the decoder is always in ASCII —
/// followed by a plain byte or the end. Two escapes in a row (an error the
/// decoder reports) stay in one stretch.
fn decode_iso_2022_jp(raw: &[u8]) -> String {
    let enc = encoding_rs::ISO_2022_JP;
    // `decode` honours a byte order mark at the start; so does this.
    if encoding_rs::Encoding::for_bom(raw).is_some() {
        return enc.decode(raw).0.into_owned();
    }
    // Bytes the ASCII state outputs as themselves: not ESC, SO, SI or 8-bit.
    let plain = |b: u8| b < 0x80 && !matches!(b, 0x1b | 0x0e | 0x0f);
    let mut out = String::with_capacity(raw.len() + raw.len() / 2);
    let mut at = 0;
    while at < raw.len() {
        // The run of plain bytes: up to the next ESC, SO or SI, found by
        // memchr3, unless an 8-bit byte comes first (mail that lies about
        // its charset), looked for only when the run is not all ASCII.
        let special = memchr::memchr3(0x1b, 0x0e, 0x0f, &raw[at..]).map_or(raw.len(), |i| at + i);
        let run = match ascii_str(&raw[at..special]) {
            Some(text) => {
                out.push_str(text);
                special
            }
            None => {
                let run = raw[at..special]
                    .iter()
                    .position(|&b| !plain(b))
                    .map_or(special, |i| at + i);
                out.push_str(ascii_str(&raw[at..run]).unwrap_or_default());
                run
            }
        };
        if run == raw.len() {
            break;
        }
        let mut end = raw.len();
        let mut from = run;
        while let Some(i) = memchr::memchr(0x1b, &raw[from..]) {
            let esc = from + i;
            if raw[esc..].starts_with(b"\x1b(B") && raw.get(esc + 3).is_none_or(|&b| plain(b)) {
                end = esc + 3;
                break;
            }
            from = esc + 1;
        }
        // Decoded straight into `out`: a string per stretch, then copied,
        // cost as much as the decoding of a short one.
        let mut decoder = enc.new_decoder_without_bom_handling();
        let mut stretch = &raw[run..end];
        loop {
            let room = decoder.max_utf8_buffer_length(stretch.len());
            out.reserve(room.unwrap_or(stretch.len()));
            let (result, read, _) = decoder.decode_to_string(stretch, &mut out, true);
            stretch = &stretch[read..];
            if result == encoding_rs::CoderResult::InputEmpty {
                break;
            }
        }
        at = end;
    }
    out
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

    /// The straightforward versions of functions made faster above: random
    /// inputs must read the same through both.
    mod reference {
        use super::super::{hex, trim_end_blanks};
        use memchr::memmem;

        pub fn decode_quoted_printable(s: &[u8]) -> Vec<u8> {
            let mut out = Vec::with_capacity(s.len());
            let mut line_end_due = false;
            for line in s.split(|&b| b == b'\n') {
                if line_end_due {
                    out.push(b'\n');
                }
                let line = trim_end_blanks(line.strip_suffix(b"\r").unwrap_or(line));
                let (body, soft) = match line.strip_suffix(b"=") {
                    Some(b) => (b, true),
                    None => (line, false),
                };
                let mut i = 0;
                while let Some(eq) = memchr::memchr(b'=', &body[i..]).map(|e| i + e) {
                    out.extend_from_slice(&body[i..eq]);
                    match (
                        body.get(eq + 1).and_then(|&c| hex(c)),
                        body.get(eq + 2).and_then(|&c| hex(c)),
                    ) {
                        (Some(h), Some(l)) => {
                            out.push(h << 4 | l);
                            i = eq + 3;
                        }
                        _ => {
                            out.push(b'=');
                            i = eq + 1;
                        }
                    }
                }
                out.extend_from_slice(&body[i..]);
                line_end_due = !soft;
            }
            out
        }

        pub fn split_multipart<'a>(
            body: &'a [u8],
            boundary: &[u8],
        ) -> Option<(&'a [u8], Vec<&'a [u8]>)> {
            let mut delim = Vec::with_capacity(boundary.len() + 2);
            delim.extend_from_slice(b"--");
            delim.extend_from_slice(boundary);
            let finder = memmem::Finder::new(&delim);
            // Finds the next delimiter line at or after `from`: (its start, whether
            // it closes the multipart, where the line after it starts).
            let next_delim = |from: usize| -> Option<(usize, bool, usize)> {
                let mut at = from;
                while let Some(i) = finder.find(&body[at..]) {
                    let start = at + i;
                    at = start + 1;
                    if start > 0 && body[start - 1] != b'\n' {
                        continue;
                    }
                    let after = start + delim.len();
                    let rest = &body[after..];
                    let closes = rest.starts_with(b"--");
                    let tail = if closes { &rest[2..] } else { rest };
                    let line_len = memchr::memchr(b'\n', tail).unwrap_or(tail.len());
                    if !closes
                        && !tail[..line_len]
                            .iter()
                            .all(|&b| b == b' ' || b == b'\t' || b == b'\r')
                    {
                        // `--boundary-more`: another boundary that starts like ours.
                        continue;
                    }
                    let line_end = after + (rest.len() - tail.len()) + line_len;
                    return Some((start, closes, (line_end + 1).min(body.len())));
                }
                None
            };
            let strip_eol = |start: usize, mut end: usize| {
                if end > start && body[end - 1] == b'\n' {
                    end -= 1;
                    if end > start && body[end - 1] == b'\r' {
                        end -= 1;
                    }
                }
                &body[start..end]
            };
            let (first, mut closes, mut part_start) = next_delim(0)?;
            let preamble = strip_eol(0, first);
            let mut parts = Vec::new();
            while !closes && part_start < body.len() {
                match next_delim(part_start) {
                    Some((start, c, after)) => {
                        parts.push(strip_eol(part_start, start));
                        closes = c;
                        part_start = after;
                    }
                    None => {
                        parts.push(&body[part_start..]);
                        break;
                    }
                }
            }
            Some((preamble, parts))
        }

        pub fn unfold_plain(s: &str) -> String {
            let mut out = String::with_capacity(s.len());
            for (i, line) in s.lines().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(line.trim_start());
            }
            out
        }

        pub fn unfold_ascii(raw: &[u8]) -> String {
            let ws = |c: &u8| matches!(c, b'\t'..=b'\r' | b' ');
            let mut out = Vec::with_capacity(raw.len());
            let (mut start, mut first) = (0, true);
            for end in memchr::memchr2_iter(b'\r', b'\n', raw).chain(std::iter::once(raw.len())) {
                let piece = &raw[start..end];
                start = end + 1;
                let a = piece.iter().position(|c| !ws(c)).unwrap_or(piece.len());
                let b = piece.iter().rposition(|c| !ws(c)).map_or(a, |i| i + 1);
                // Empty pieces (CRLF, blank lines) add nothing, not even a space.
                if piece.is_empty() {
                    continue;
                }
                if !first {
                    out.push(b' ');
                }
                first = false;
                out.extend_from_slice(&piece[a..b]);
            }
            String::from_utf8(out).unwrap_or_default()
        }
    }

    /// A small deterministic generator: strings built from pieces that
    /// matter to the function under test.
    fn random_inputs(pieces: &[&[u8]], count: usize) -> Vec<Vec<u8>> {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        (0..count)
            .map(|_| {
                let len = (next() % 24) as usize;
                (0..len)
                    .flat_map(|_| {
                        pieces[(next() % pieces.len() as u64) as usize]
                            .iter()
                            .copied()
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn fast_decoders_agree_with_the_straightforward_ones() {
        let qp: &[&[u8]] = &[
            b"a", b"=", b"3", b"D", b"=3D", b"=\n", b"\r", b"\n", b" ", b"\t", b"\xc3", b"F",
        ];
        for v in random_inputs(qp, 20_000) {
            assert_eq!(
                decode_quoted_printable(&v),
                reference::decode_quoted_printable(&v),
                "{v:?}"
            );
        }
        let lines: &[&[u8]] = &[
            b"a", b"b c", b" ", b"\t", b"\r", b"\n", b"\r\n", b"\x0b", b"\x0c",
        ];
        for v in random_inputs(lines, 20_000) {
            let s = std::str::from_utf8(&v).unwrap();
            assert_eq!(unfold_plain(s), reference::unfold_plain(s), "{v:?}");
            assert_eq!(unfold_ascii(s), reference::unfold_ascii(&v), "{v:?}");
        }
        let multipart: &[&[u8]] = &[
            b"--b", b"--b--", b"--bx", b"\n", b"\r\n", b"x", b" ", b"-", b"b", b"--", b"\n--b\n",
        ];
        for v in random_inputs(multipart, 40_000) {
            for boundary in [&b"b"[..], b"-b", b"b\n--b", b"bx"] {
                assert_eq!(
                    split_multipart(&v, boundary),
                    reference::split_multipart(&v, boundary),
                    "{v:?} {boundary:?}"
                );
            }
        }
        let jis: &[&[u8]] = &[
            b"\x1b",
            b"(",
            b"$",
            b"B",
            b"@",
            b"J",
            b"I",
            b"\x0e",
            b"\x0f",
            b"\x80",
            b"\xef\xbb\xbf",
            b"a",
            b"!",
            b"#",
            b"\n",
            b"\\",
            b"~",
            b"\x1b$B",
            b"\x1b(B",
            b"\x1b(J",
            b"$B",
            b"F|",
        ];
        for v in random_inputs(jis, 40_000) {
            assert_eq!(
                decode_iso_2022_jp(&v),
                encoding_rs::ISO_2022_JP.decode(&v).0,
                "{v:?}"
            );
        }
    }

    #[test]
    fn triage_layout_parses_as_the_walk_of_the_reader() {
        use crate::message::RawMessage;
        use crate::triage::{triage_keeping, HeaderLayout};
        // Both readings as comparable values: every field and entity, with
        // the place of each slice in the message.
        fn reading<'a>(p: &Parsed<'a>) -> Vec<(usize, usize, String)> {
            let base = p.raw.as_ptr() as usize;
            let at = |s: &[u8]| (s.as_ptr() as usize - base, s.len());
            let mut out: Vec<_> = p
                .fields
                .iter()
                .flat_map(|f| [at(f.name), at(f.value)])
                .map(|(a, l)| (a, l, String::new()))
                .collect();
            for e in &p.entities {
                let (a, l) = at(e.body);
                let t = e.transfer as u8;
                out.push((
                    a,
                    l,
                    format!(
                        "{:?} {} {} {t} {}",
                        e.fields,
                        e.mimetype,
                        e.leaf,
                        e.ctype.len()
                    ),
                ));
            }
            out.push((0, 0, format!("{:?}", p.defect)));
            out
        }
        // Lines of header blocks, most of them read alike by both walks,
        // some not (no colon, a blank in the name, CR alone, a blank line
        // first); and bodies of multiparts.
        let pieces: &[&[u8]] = &[
            b"A: x\n",
            b"Content-Type: multipart/mixed; boundary=b\n",
            b"content-type:multipart/digest;\r\n boundary=\"b\"\r\n",
            b"Content-Transfer-Encoding: base64\n",
            b"B:\n",
            b"C: \t \r\n",
            b"D:  a  \r\n",
            b" folded\n",
            b"\tfolded\r\n",
            b" \n",
            b"\n",
            b"\r\n",
            b"--b\n",
            b"--b--\n",
            b"junk line\n",
            b"X Y: z\n",
            b"E: a\rb\n",
            b"F: \x0c\xc3\xa9\r\r\n",
            b"G",
        ];
        let mut kept = 0;
        for m in random_inputs(pieces, 60_000) {
            let mut layout = HeaderLayout::new();
            let raw = RawMessage {
                bytes: &m,
                offset: 0,
                index: 0,
            };
            triage_keeping(&raw, &mut layout);
            kept += usize::from(layout.fields().is_some());
            assert_eq!(
                reading(&parse_with(&m, &layout)),
                reading(&parse(&m)),
                "{:?}",
                String::from_utf8_lossy(&m)
            );
        }
        // (The inputs must reach the taken-over reading, not only the fallback.)
        assert!(kept > 2_000, "{kept}");
    }

    #[test]
    fn common_encoded_words_decode_as_mailparse_does() {
        let mailparse_value = |raw: &[u8]| {
            let mut line = b"X: ".to_vec();
            line.extend_from_slice(raw);
            mailparse::parse_header(&line).unwrap().0.get_value()
        };
        let pieces: &[&[u8]] = &[
            b"=?UTF-8?B?44OG44K544OI?=",
            b"=?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?=",
            b"=?UTF-8?Q?=E3=83=86_a?=",
            b"=?iso-8859-1?q?caf=E9?=",
            b"=?gbk?B?xOO6ww==?=",
            b"=?UTF-8?B?QR==?=",
            b"=?UTF-8?B??=",
            b"=?x-unknown?Q?a?=",
            b"=?UTF-8?X?a?=",
            b"=?",
            b"?=",
            b"=?UTF-8?B?",
            b"=?utf-8?b?",
            b"=?ISO-2022-JP?B?",
            b"=?UTF-8?Q?",
            b"=?iso-8859-1?q?",
            b"=?gbk?B?",
            b"=?x-unknown?B?",
            b"=?UTF-7?Q?",
            b"=?UTF-8?X?",
            b"?",
            b"44OG44K544OI",
            b"GyRCJUYlOSVIGyhC",
            b"QQ==",
            b"QR==",
            b"QUI=",
            b"Q===",
            b"QQ",
            b"+/9z",
            b"=E3=83=86",
            b"=e3",
            b"=4",
            b"=",
            b"_",
            b"a",
            b"x y",
            b" ",
            b"\t",
            b"\r\n ",
            b"\n\t",
            b"\n",
            b"\r",
            b"\x0b",
            b"\x0c",
            b"(",
            b")",
            b"\"",
            b",",
            b"<",
            b">",
        ];
        let mut common = 0;
        for v in random_inputs(pieces, 100_000) {
            let raw = std::str::from_utf8(&v).unwrap();
            if let Some(text) = encoded_words_common(raw) {
                common += 1;
                assert_eq!(text, mailparse_value(&v), "{raw:?}");
            }
        }
        assert!(common > 20_000, "{common}");
        // Long words, across mailparse's base64 line width.
        let long = format!(
            "=?UTF-8?B?{}?= x =?UTF-8?Q?{}?=",
            "44OG".repeat(40),
            "=E3=83=86_a".repeat(20)
        );
        assert_eq!(
            encoded_words_common(&long).as_deref(),
            Some(mailparse_value(long.as_bytes()).as_str())
        );
    }

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
    fn ascii_unfold_is_unfold() {
        for raw in [
            "",
            "plain",
            "  padded \t",
            "from a (b [192.0.2.1])\n\tby c with ESMTP id 1;\n\tMon, 6 Jan 2025",
            "crlf\r\n continued\r\n\r\n  \r\n end",
            "\x0bvt\x0b and \x0c ff \x1c fs\x1c",
            "\n\n",
            " \n \n ",
        ] {
            assert_eq!(unfold_ascii(raw), unfold(raw), "{raw:?}");
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
    fn a_huge_encoded_value_is_decoded_in_pieces() {
        // 60,000 words: whole, mailparse would take minutes (quadratic).
        let word = "=?UTF-8?B?44OG44K544OI?= ";
        let raw = word.repeat(60_000);
        let text = decode_header_bytes(raw.as_bytes());
        assert_eq!(text.matches("テスト").count(), 60_000);
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
            b" leading continuation\nContent-Type: multipart/mixed; boundary=b\n\n--b\n--b",
            b"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: multipart/mixed; boundary=b\n\n--b\n",
            b"Content-Transfer-Encoding: base64\n\n====\x00\xff",
            b"Content-Transfer-Encoding: quoted-printable\n\n=\n=4\n=ZZ=",
        ] {
            let p = parse(m);
            let _ = p.text();
            let _ = p.parts().len();
        }
    }

    const REPORT: &str = "From: MAILER-DAEMON@mx.example\r\n\
        Content-Type: multipart/report; report-type=delivery-status;\r\n\
        \tboundary=\"=_b1\"\r\n\
        \r\n\
        preamble\r\n\
        --=_b1\r\n\
        Content-Type: text/plain; charset=us-ascii\r\n\
        Content-Transfer-Encoding: quoted-printable\r\n\
        \r\n\
        The mail to <a@b.example> failed: =\r\n\
        user unknown.=20\r\n\
        --=_b1-more\r\n\
        still the first part\r\n\
        --=_b1\r\n\
        Content-Type: message/delivery-status\r\n\
        \r\n\
        Final-Recipient: rfc822; a@b.example\r\n\
        --=_b1\r\n\
        Content-Type: message/rfc822\r\n\
        \r\n\
        Subject: hi\r\n\
        \r\n\
        --=_b1--\r\n\
        epilogue\r\n";

    #[test]
    fn multipart_report_is_split_into_its_parts() {
        let p = parse(REPORT.as_bytes());
        assert_eq!(p.defect(), None);
        assert_eq!(p.mimetype(), "multipart/report");
        assert_eq!(
            p.ctype_param("report-type").as_deref(),
            Some("delivery-status")
        );
        let parts = p.parts();
        let types: Vec<_> = parts.iter().map(|p| p.mimetype).collect();
        assert_eq!(
            types,
            ["text/plain", "message/delivery-status", "message/rfc822"]
        );
        // QP: the soft break joins, `=20` is a space; a delimiter that only
        // starts like ours does not end the part.
        assert_eq!(
            parts[0].text(),
            "The mail to <a@b.example> failed: user unknown. \n--=_b1-more\nstill the first part"
        );
        assert_eq!(&*parts[1].raw(), b"Final-Recipient: rfc822; a@b.example");
        assert_eq!(&*parts[2].raw(), b"Subject: hi\r\n");
        assert_eq!(
            p.header("from").as_deref(),
            Some("MAILER-DAEMON@mx.example")
        );
        assert!(p.text().starts_with("The mail to"));
    }

    #[test]
    fn damaged_structures_are_read_and_noted() {
        // No boundary parameter: one part, noted.
        let p = parse(b"Content-Type: multipart/mixed\n\nbody text\n");
        assert!(p.defect().is_some());
        assert_eq!(p.text(), "body text\n");
        // The boundary never occurs: noted.
        let p = parse(b"Content-Type: multipart/mixed; boundary=zz\n\nbody\n");
        assert!(p.defect().is_some());
        // Cut short after the first part (a truncated bounce): not a defect,
        // the last part runs to the end.
        let p = parse(b"Content-Type: multipart/mixed; boundary=zz\n\n--zz\n\nfirst\n--zz\nContent-Type: message/rfc822\n\nSubject: x\n");
        assert_eq!(p.defect(), None);
        assert_eq!(p.parts().len(), 2);
        assert_eq!(&*p.parts()[1].raw(), b"Subject: x\n");
        // A header line without a colon continues the field before it.
        let p = parse(b"Subject: a\ngarbage line\nFrom: b\n\nbody");
        assert_eq!(p.header("From").as_deref(), Some("b"));
        assert_eq!(p.header("Subject").as_deref(), Some("a garbage line"));
        assert_eq!(p.text(), "body");
        // ... so a boundary that lost its indent is still the boundary.
        let p =
            parse(b"Content-Type: multipart/mixed;\nboundary=\"zz\"\n\n--zz\n\nfirst\n--zz--\n");
        assert_eq!(p.defect(), None);
        assert_eq!(p.text(), "first");
        // A declared boundary the body does not use: the body's is found.
        let p = parse(b"Content-Type: multipart/mixed; boundary=\"A.1/x\"\n\n--A.2/x\n\nfirst\n--A.2/x\nContent-Type: text/plain\n\nsecond\n--A.2/x--\n");
        assert!(p.defect().is_some());
        assert_eq!(p.parts().len(), 2);
        assert_eq!(p.text(), "first\n\nsecond");
    }

    #[test]
    fn transfer_encodings_decode_leniently() {
        assert_eq!(decode_base64(b"aGVsbG 8gd\r\n29ybGQ="), b"hello world");
        assert_eq!(decode_base64(b"aGk=\naGk="), b"hihi");
        assert_eq!(decode_base64(b"a!G@k"), b"hi");
        assert_eq!(
            decode_quoted_printable(b"a=3Db=\nc \nd=\r\ne=ZZ"),
            b"a=bc\nde=ZZ"
        );
        assert_eq!(
            decode_quoted_printable(b"caf\xc3\xa9=E9\n"),
            b"caf\xc3\xa9\xe9\n"
        );
    }

    #[test]
    fn rfc2231_parameters_are_joined_and_decoded() {
        let v = b"text/plain; charset*=utf-8''%E3%83%86; x=1";
        assert_eq!(param(v, "charset").as_deref(), Some("テ"));
        let v = b"multipart/mixed; boundary*0=\"ab\"; boundary*1=\"cd\"";
        assert_eq!(param(v, "boundary").as_deref(), Some("abcd"));
        assert_eq!(
            param(b"text/plain; charset=\"ISO-2022-JP\"", "CHARSET").as_deref(),
            Some("ISO-2022-JP")
        );
        assert_eq!(param(b"text/plain", "charset"), None);
    }

    #[test]
    fn quoted_parameters_keep_their_semicolons() {
        // RFC 2045 quoted-string: a `;` inside the quotes does not end the
        // value, and the parameters after it are still found.
        let v = b"multipart/mixed; boundary=\"a;b\"; charset=utf-8";
        assert_eq!(param(v, "boundary").as_deref(), Some("a;b"));
        assert_eq!(param(v, "charset").as_deref(), Some("utf-8"));
        let v = b"application/octet-stream; name=\"x; y.txt\"; x-mac-type=0";
        assert_eq!(param(v, "name").as_deref(), Some("x; y.txt"));
        assert_eq!(param(v, "x-mac-type").as_deref(), Some("0"));
        // A name inside a quoted value is no parameter.
        let v = b"text/plain; name=\"a; charset=koi8-r\"; charset=us-ascii";
        assert_eq!(param(v, "charset").as_deref(), Some("us-ascii"));
        // Backslash quoting (RFC 822 quoted-pair): an escaped quote does not
        // close the value; the escapes are undone.
        let v = b"text/plain; name=\"say \\\"hi\\\"; now\"; charset=utf-8";
        assert_eq!(param(v, "name").as_deref(), Some("say \"hi\"; now"));
        assert_eq!(param(v, "charset").as_deref(), Some("utf-8"));
        assert_eq!(
            param(b"text/plain; name=\"a\\\\b\"", "name").as_deref(),
            Some("a\\b")
        );
        // Folded, with blanks around `=`.
        let v = b"multipart/report; report-type=delivery-status;\r\n\tboundary = \"=_b;1\"";
        assert_eq!(param(v, "boundary").as_deref(), Some("=_b;1"));
        // RFC 2231 continuations may be quoted too.
        let v = b"text/plain; name*0=\"a;\"; name*1=\"b\"";
        assert_eq!(param(v, "name").as_deref(), Some("a;b"));
        // Broken quoting is read as it was before: an unclosed quote ends
        // at the next `;`, text after a closing quote keeps the quotes.
        let v = b"text/plain; name=\"abc; charset=koi8-r";
        assert_eq!(param(v, "name").as_deref(), Some("\"abc"));
        assert_eq!(param(v, "charset").as_deref(), Some("koi8-r"));
        let v = b"text/plain; name=\"a\"b; charset=x";
        assert_eq!(param(v, "name").as_deref(), Some("\"a\"b"));
        assert_eq!(param(v, "charset").as_deref(), Some("x"));
        assert_eq!(param(b"text/plain; name=\"", "name").as_deref(), Some("\""));
        assert_eq!(param(b"text/plain; name=\"\"", "name").as_deref(), Some(""));
        assert_eq!(
            param(b"text/plain; name=\"a\\", "name").as_deref(),
            Some("\"a\\")
        );
    }

    #[test]
    fn a_boundary_with_a_semicolon_splits_the_body() {
        let p = parse(b"Content-Type: multipart/mixed; boundary=\"x;y\"\n\n--x;y\n\nfirst\n--x;y\nContent-Type: text/plain\n\nsecond\n--x;y--\n");
        assert_eq!(p.defect(), None);
        assert_eq!(p.parts().len(), 2);
        assert_eq!(p.text(), "first\n\nsecond");
    }

    #[test]
    fn a_message_of_100000_parts_is_read_whole() {
        let mut m = String::from("Content-Type: multipart/mixed; boundary=B\n\n");
        for i in 0..100_000 {
            m.push_str(&format!("--B\n\n{i}\n"));
        }
        m.push_str("--B\nContent-Type: message/rfc822\n\nSubject: last\n\n--B--\n");
        let p = parse(m.as_bytes());
        assert_eq!(p.defect(), None);
        assert_eq!(p.leaves().count(), 100_001);
        assert_eq!(
            p.leaves()
                .find(|l| l.mimetype == "message/rfc822")
                .map(|l| l.raw().into_owned()),
            Some(b"Subject: last\n".to_vec())
        );
        assert!(p.text().ends_with("\n\n99999"));
    }

    #[test]
    fn a_huge_value_of_word_starts_is_decoded_in_small_pieces() {
        // 1.2 MB of `a=?`, none of them a word: every one made mailparse
        // count characters from the start of its 8 KiB piece.
        let raw = "a=?".repeat(400_000);
        let text = decode_header_bytes(raw.as_bytes());
        assert_eq!(text.replace(' ', ""), raw);
        // Words are still decoded (each piece is cut at a blank).
        let raw = "=?UTF-8?B?44OG44K544OI?= x ".repeat(45_000);
        assert_eq!(
            decode_header_bytes(raw.as_bytes())
                .matches("テスト")
                .count(),
            45_000
        );
    }
}
