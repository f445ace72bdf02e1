//! mbox splitting: separator lines → zero-copy message ranges.
//!
//! A separator is a line `From <sender> <date>` at the start of the file or
//! after an empty line (mboxo/mboxrd, RFC 4155). Line ends may be LF, CRLF or
//! CR alone. A `From ` line inside a body is not a separator unless its rest
//! looks like an mbox date, which real prose does not. Lines that begin with
//! `From ` without an empty line before them only split when they carry a
//! complete asctime date (some exporters omit the empty line).

use std::borrow::Cow;
use std::ops::Range;
use std::sync::OnceLock;

use memchr::memmem;

/// True when `bytes` starts like an mbox file.
pub fn looks_like_mbox(bytes: &[u8]) -> bool {
    let start = skip_leading_blank(bytes);
    bytes[start..].starts_with(b"From ") && from_line_ok(line_rest(bytes, start + 5), false)
}

fn skip_leading_blank(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .take(64)
        .take_while(|&&b| b == b'\n' || b == b'\r')
        .count()
}

/// Finds the separator positions (start of each `From ` line) whose `F` lies
/// in `range`, in increasing order, appending them to `out`. Reads a few bytes
/// either side of `range`, so disjoint ranges can be searched in parallel.
pub fn separators_in(hay: &[u8], range: Range<usize>, out: &mut Vec<usize>) {
    split_in(hay, range, out, &mut Vec::new());
}

/// `separators_in`, which also appends to `quoted` the position of the `F`
/// of every `>From ` line (`^>+From `, what `unquote_from` undoes): the
/// search for separators meets every `From ` anyway, so a message whose
/// range holds none of these need not be searched again before parsing.
pub fn split_in(hay: &[u8], range: Range<usize>, out: &mut Vec<usize>, quoted: &mut Vec<usize>) {
    let finder = memmem::Finder::new(b"From ");
    let end = (range.end + 4).min(hay.len());
    let first = skip_leading_blank(hay);
    for rel in finder.find_iter(&hay[range.start..end]) {
        let p = range.start + rel;
        if p >= range.end {
            break;
        }
        if p > 0 && hay[p - 1] == b'>' {
            // Never a separator (not at a line start); quoted when its `>`
            // run starts a line.
            if starts_quoted_line(hay, p) {
                quoted.push(p);
            }
        } else if is_separator(hay, p, first) {
            out.push(p);
        }
    }
}

/// Does the run of `>` before the `From ` at `p` start a line (or `msg`)?
/// The test `unquote_from` makes; in an mbox, a message starts after the
/// line end of its `From_` line, so the answer is the same whether `msg`
/// is the whole file or the message.
fn starts_quoted_line(msg: &[u8], p: usize) -> bool {
    let q = msg[..p]
        .iter()
        .rposition(|&b| b != b'>')
        .map_or(0, |i| i + 1);
    q == 0 || msg[q - 1] == b'\n' || msg[q - 1] == b'\r'
}

/// Is any position of `quoted` (sorted, from `split_in`) a `>From ` line
/// inside the message at `range`? `quoted` is advanced past positions
/// before the range, so walking the messages in order costs one pass.
pub fn has_quoted(quoted: &mut &[usize], range: &Range<usize>) -> bool {
    while let Some((&p, rest)) = quoted.split_first() {
        if p + 5 > range.end {
            // (A `>From ` cut by the range end is no `>From ` of this message.)
            return false;
        }
        *quoted = rest;
        if p > range.start {
            return true;
        }
    }
    false
}

/// Decides whether the `From ` at `p` starts a new message.
#[inline]
fn is_separator(hay: &[u8], p: usize, first: usize) -> bool {
    if p == first {
        return from_line_ok(line_rest(hay, p + 5), false);
    }
    let before = &hay[..p];
    let after_blank = before.ends_with(b"\n\n")
        || before.ends_with(b"\r\n\r\n")
        || before.ends_with(b"\r\r")
        || before.ends_with(b"\n\r\n");
    if after_blank {
        return from_line_ok(line_rest(hay, p + 5), false);
    }
    let at_line_start = before.ends_with(b"\n") || before.ends_with(b"\r");
    at_line_start && from_line_ok(line_rest(hay, p + 5), true)
}

/// The rest of the line starting at `from` (at most 256 bytes, no line end).
#[inline]
fn line_rest(hay: &[u8], from: usize) -> &[u8] {
    let tail = &hay[from.min(hay.len())..];
    let tail = &tail[..tail.len().min(256)];
    let end = memchr::memchr2(b'\n', b'\r', tail).unwrap_or(tail.len());
    &tail[..end]
}

/// Does the text after `From ` look like `<sender> <date>`?
///
/// The date must carry a month name as a word, a time `h:mm` and a year of
/// four digits (asctime `Mon Jan  5 10:00:00 2004`, Google Takeout
/// `Wed Jan 06 01:02:03 +0000 2021`, Thunderbird `From - Sat Nov 28 ...`).
/// An ISO date `2019-10-02` may stand for the month name. Without an empty
/// line before it (`strict`), also a weekday name (or the ISO date).
fn from_line_ok(rest: &[u8], strict: bool) -> bool {
    const DAYS: [&[u8]; 7] = [b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat", b"Sun"];
    const MONTHS: [&[u8]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    let sp = match memchr::memchr(b' ', rest) {
        Some(i) if i > 0 => i,
        _ => return false,
    };
    let date = &rest[sp + 1..];
    if !has_time(date) || !has_year(date) {
        return false;
    }
    let words = || {
        date.split(|&b| b == b' ' || b == b',')
            .filter(|w| !w.is_empty())
    };
    // Month and day names are three letters: other words are not compared.
    let has = |set: &[&[u8]]| {
        words().any(|w| w.len() == 3 && set.iter().any(|m| w.eq_ignore_ascii_case(m)))
    };
    // Some exporters write an ISO date instead: `From () 2019-10-02 05:04:34 +0000`.
    // (Looked for only when a name is missing: most lines have both.)
    let iso = || {
        date.windows(10).any(|w| {
            w[4] == b'-'
                && w[7] == b'-'
                && w.iter()
                    .enumerate()
                    .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit())
        })
    };
    (has(&MONTHS) || iso()) && (!strict || has(&DAYS) || iso())
}

fn has_time(s: &[u8]) -> bool {
    s.windows(4).any(|w| {
        w[0].is_ascii_digit() && w[1] == b':' && w[2].is_ascii_digit() && w[3].is_ascii_digit()
    })
}

fn has_year(s: &[u8]) -> bool {
    s.windows(4).enumerate().any(|(i, w)| {
        (w.starts_with(b"19") || w.starts_with(b"20"))
            && w.iter().all(u8::is_ascii_digit)
            && (i == 0 || !s[i - 1].is_ascii_digit())
            && s.get(i + 4).is_none_or(|b| !b.is_ascii_digit())
    })
}

/// Turns separator positions into message ranges: each message starts after
/// its `From ` line and ends before the empty line that precedes the next.
pub fn message_ranges(hay: &[u8], seps: &[usize]) -> Vec<(usize, Range<usize>)> {
    let mut out = Vec::with_capacity(seps.len());
    for (i, &sep) in seps.iter().enumerate() {
        let end = seps.get(i + 1).copied().unwrap_or(hay.len());
        let body_start = next_line(hay, sep, end);
        let mut stop = end;
        // The empty line before the next separator belongs to the mbox, not the message.
        if i + 1 < seps.len() {
            stop = strip_one_eol(hay, body_start, stop);
        }
        out.push((sep, body_start..stop));
    }
    out
}

fn next_line(hay: &[u8], from: usize, limit: usize) -> usize {
    match memchr::memchr2(b'\n', b'\r', &hay[from..limit]) {
        Some(i) => {
            let p = from + i;
            if hay[p] == b'\r' && hay.get(p + 1) == Some(&b'\n') {
                p + 2
            } else {
                p + 1
            }
        }
        None => limit,
    }
}

fn strip_one_eol(hay: &[u8], start: usize, end: usize) -> usize {
    let s = &hay[start..end];
    if s.ends_with(b"\r\n") {
        end - 2
    } else if s.ends_with(b"\n") || s.ends_with(b"\r") {
        end - 1
    } else {
        end
    }
}

/// Undoes `>From ` quoting in a message's text: one `>` is removed from lines
/// matching `^>+From ` (mboxrd; for mboxo this restores the single level).
/// Borrowed when there is nothing to undo, which is almost always.
pub fn unquote_from(msg: &[u8]) -> Cow<'_, [u8]> {
    // Built once: this runs for every message that is parsed, and building
    // the searcher cost as much as the search.
    static QUOTED: OnceLock<memmem::Finder<'static>> = OnceLock::new();
    let finder = QUOTED.get_or_init(|| memmem::Finder::new(b">From "));
    if !finder
        .find_iter(msg)
        .any(|p| starts_quoted_line(msg, p + 1))
    {
        return Cow::Borrowed(msg);
    }
    unquote_lines(msg)
}

/// `unquote_from` for a message known to hold a `>From ` line.
pub fn unquote_lines(msg: &[u8]) -> Cow<'_, [u8]> {
    let mut out = Vec::with_capacity(msg.len());
    let mut line_start = true;
    let mut i = 0;
    while i < msg.len() {
        if line_start && msg[i] == b'>' {
            let n = msg[i..].iter().take_while(|&&b| b == b'>').count();
            if msg[i + n..].starts_with(b"From ") {
                i += 1; // drop one '>'
            }
        }
        let b = msg[i];
        out.push(b);
        line_start = b == b'\n' || (b == b'\r' && msg.get(i + 1) != Some(&b'\n'));
        i += 1;
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(hay: &[u8]) -> Vec<&[u8]> {
        let mut seps = Vec::new();
        separators_in(hay, 0..hay.len(), &mut seps);
        message_ranges(hay, &seps)
            .into_iter()
            .map(|(_, r)| &hay[r])
            .collect()
    }

    #[test]
    fn splits_lf_crlf_and_cr() {
        let lf = b"From a@b Mon Jan  5 10:00:00 2004\nSubject: 1\n\nbody\n\nFrom c@d Tue Jan  6 10:00:00 2004\nSubject: 2\n\nx\n";
        assert_eq!(
            split(lf),
            vec![&b"Subject: 1\n\nbody\n"[..], &b"Subject: 2\n\nx\n"[..]]
        );
        let crlf = b"From a@b Mon Jan  5 10:00:00 2004\r\nSubject: 1\r\n\r\nbody\r\n\r\nFrom c@d Tue Jan  6 10:00:00 2004\r\nS: 2\r\n\r\nx\r\n";
        assert_eq!(split(crlf).len(), 2);
        assert_eq!(split(crlf)[0], b"Subject: 1\r\n\r\nbody\r\n");
        let cr = b"From a@b Mon Jan  5 10:00:00 2004\rSubject: 1\r\rbody\r\rFrom c@d Tue Jan  6 10:00:00 2004\rS: 2\r\rx\r";
        assert_eq!(split(cr).len(), 2);
        assert_eq!(split(cr)[0], b"Subject: 1\r\rbody\r");
    }

    #[test]
    fn body_from_lines_do_not_split() {
        let m = b"From a@b Mon Jan  5 10:00:00 2004\nSubject: 1\n\nHello\n\nFrom the desk of the CEO: 10:00 meeting\nFrom here on\n";
        assert_eq!(split(m).len(), 1);
        let m = b"From a@b Mon Jan  5 10:00:00 2004\nS: 1\n\nx\n\nFrom the desk of the president: see you at 10:30 in 2026.\n";
        assert_eq!(split(m).len(), 1);
    }

    #[test]
    fn exporter_variants() {
        // Thunderbird and Google Takeout separator forms.
        assert!(looks_like_mbox(b"From - Sat Nov 28 10:00:00 2026\nX: y\n"));
        assert!(looks_like_mbox(
            b"From 1780000000000000000@xxx Wed Jan 06 01:02:03 +0000 2021\r\nX: y\r\n"
        ));
        assert!(looks_like_mbox(
            b"From () 2019-10-02 05:04:34 +0000\nX: y\n"
        ));
        assert!(!looks_like_mbox(b"From: someone@example.com\n"));
        assert!(!looks_like_mbox(b"From here to there\n"));
        // No empty line before, but a full asctime date.
        let m = b"From a@b Mon Jan  5 10:00:00 2004\nS: 1\n\nx\nFrom c@d Tue Jan  6 10:00:00 2004\nS: 2\n\ny\n";
        assert_eq!(split(m).len(), 2);
    }

    #[test]
    fn parallel_ranges_agree_with_one_pass() {
        let mut hay = Vec::new();
        for i in 0..50 {
            hay.extend_from_slice(
                format!(
                    "From x{i}@y Mon Jan  5 10:00:{:02} 2004\nS: {i}\n\nbody From here\n\n",
                    i % 60
                )
                .as_bytes(),
            );
        }
        let mut whole = Vec::new();
        separators_in(&hay, 0..hay.len(), &mut whole);
        for chunk in [1usize, 7, 33, 100, 1000] {
            let mut parts = Vec::new();
            let mut s = 0;
            while s < hay.len() {
                let e = (s + chunk).min(hay.len());
                separators_in(&hay, s..e, &mut parts);
                s = e;
            }
            assert_eq!(parts, whole, "chunk {chunk}");
        }
        assert_eq!(whole.len(), 50);
    }

    #[test]
    fn split_finds_the_messages_unquote_from_changes() {
        let bodies: [&[u8]; 9] = [
            b"S: 1\n\n>From a\n",
            b"S: 2\n\nplain\n",
            b">From at the start\n\nx\n",
            b"S: 4\n\nx>From not at a line start\n",
            b"S: 5\r\n\r\n>>From crlf\r\n",
            b"S: 6\r\rcr only\r>From x\r",
            b"S: 7\n\nends with >From",
            b"S: 8\n\n>>>\n",
            b"S: 9\n\nlast >From\n>From",
        ];
        let mut hay = Vec::new();
        for (i, b) in bodies.iter().enumerate() {
            hay.extend_from_slice(format!("From x{i}@y Mon Jan  5 10:00:00 2004\n").as_bytes());
            hay.extend_from_slice(b);
            hay.extend_from_slice(b"\n\n");
        }
        for chunk in [3usize, 17, hay.len()] {
            let (mut seps, mut quoted) = (Vec::new(), Vec::new());
            let mut s = 0;
            while s < hay.len() {
                let e = (s + chunk).min(hay.len());
                split_in(&hay, s..e, &mut seps, &mut quoted);
                s = e;
            }
            let ranges = message_ranges(&hay, &seps);
            assert_eq!(ranges.len(), bodies.len());
            let mut rest = &quoted[..];
            for (_, r) in &ranges {
                let msg = &hay[r.clone()];
                let owned = matches!(unquote_from(msg), Cow::Owned(_));
                assert_eq!(
                    has_quoted(&mut rest, r),
                    owned,
                    "{:?}",
                    String::from_utf8_lossy(msg)
                );
            }
        }
    }

    #[test]
    fn mboxrd_unquoting() {
        assert_eq!(
            &*unquote_from(b"S: x\n\n>From a\n>>From b\nx>From c\n"),
            b"S: x\n\nFrom a\n>From b\nx>From c\n"
        );
        assert!(matches!(unquote_from(b"S: x\n\nplain\n"), Cow::Borrowed(_)));
    }
}
