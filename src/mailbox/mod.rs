//! Stage 2: a source file → its bytes → messages.
//!
//! Files are opened read-only. Large files are memory-mapped (plain read as
//! the fallback, e.g. for a pipe); what a file is, is decided from its first
//! bytes: an mbox, a gzip stream (decompressed on the fly, never whole in
//! memory), a single message (Maildir file or .eml), or not mail.

pub mod gz;
pub mod mbox;

use std::fs::File;
use std::io::Read;
use std::ops::Deref;
use std::path::Path;

use memmap2::{Mmap, MmapOptions};

/// Files smaller than this are read, not mapped: a map costs more than a
/// read for the typical Maildir message.
const MAP_THRESHOLD: u64 = 1 << 20;

/// The bytes of one source file, mapped or read.
pub enum Content {
    /// A read-only memory map.
    Mapped(Mmap),
    /// Read into memory (small files, or where mapping failed).
    Read(Vec<u8>),
}

impl Deref for Content {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Content::Mapped(m) => m,
            Content::Read(v) => v,
        }
    }
}

/// Opens a file read-only and maps or reads it.
pub fn open(path: &Path) -> std::io::Result<Content> {
    let file = File::open(path)?;
    let len = file.metadata()?.len();
    if len >= MAP_THRESHOLD {
        if let Some(map) = map(&file) {
            return Ok(Content::Mapped(map));
        }
    }
    let mut buf = Vec::with_capacity(len as usize);
    (&file).read_to_end(&mut buf)?;
    Ok(Content::Read(buf))
}

/// Opens a file read-only for streaming (gzip input).
pub fn open_stream(path: &Path) -> std::io::Result<File> {
    File::open(path)
}

fn map(file: &File) -> Option<Mmap> {
    // SAFETY: the map is read-only and private to this process. The inputs
    // are evidence copies the responder exported; if another process truncated
    // one while we read it, the access would fault — the same risk every
    // mmap-based search tool (ripgrep, grep) accepts for its speed. Mapping
    // fails cleanly for pipes and special files, and we then read instead.
    let map = unsafe { MmapOptions::new().map(file) }.ok()?;
    #[cfg(unix)]
    {
        let _ = map.advise(memmap2::Advice::Sequential);
    }
    Some(map)
}

/// What a file holds, judged from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Unix mbox: messages separated by `From ` lines.
    Mbox,
    /// gzip-compressed data (an mbox or a message inside).
    Gzip,
    /// One message (Maildir file, .eml).
    Single,
    /// Zero bytes.
    Empty,
    /// Neither mail nor gzip.
    NotMail,
}

/// Classifies content by its first bytes.
pub fn classify(bytes: &[u8]) -> Format {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Format::Empty;
    }
    if bytes.starts_with(&[0x1f, 0x8b]) {
        return Format::Gzip;
    }
    if mbox::looks_like_mbox(bytes) {
        return Format::Mbox;
    }
    if looks_like_message(bytes) {
        return Format::Single;
    }
    // A damaged start (a broken first `From ` line, junk before it) must not
    // cost the whole mbox: a separator further on makes it an mbox, and the
    // scan reports the bytes before it.
    let mut seps = Vec::new();
    mbox::separators_in(bytes, 0..bytes.len(), &mut seps);
    if !seps.is_empty() {
        return Format::Mbox;
    }
    Format::NotMail
}

/// A message starts with header fields: `Name: value` lines (RFC 5322 §2.2),
/// continuation lines, and at least one field a mail has. Binary junk, text
/// files and index files fail this test.
pub fn looks_like_message(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(8192)];
    let mut fields = 0;
    let mut known = false;
    let sep = if memchr::memchr(b'\n', head).is_some() {
        b'\n'
    } else {
        b'\r'
    };
    for line in head.split(|&b| b == sep) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            if fields > 0 {
                break;
            }
            continue;
        }
        if line[0] == b' ' || line[0] == b'\t' {
            if fields == 0 {
                return false;
            }
            continue;
        }
        let colon = match memchr::memchr(b':', line) {
            Some(c) if c > 0 => c,
            _ => {
                // An unfinished last line of a truncated sample is not a verdict.
                if line.len() + (line.as_ptr() as usize - head.as_ptr() as usize) >= head.len() {
                    break;
                }
                return false;
            }
        };
        let name = &line[..colon];
        if !name.iter().all(|&b| (33..=126).contains(&b)) {
            return false;
        }
        fields += 1;
        const KNOWN: &[&[u8]] = &[
            b"from",
            b"to",
            b"subject",
            b"date",
            b"message-id",
            b"received",
            b"return-path",
            b"mime-version",
            b"content-type",
            b"delivered-to",
            b"x-original-to",
        ];
        known |= KNOWN.iter().any(|k| name.eq_ignore_ascii_case(k));
    }
    fields >= 2 && known
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_by_content() {
        assert_eq!(classify(b""), Format::Empty);
        assert_eq!(classify(b"\n\n"), Format::Empty);
        assert_eq!(classify(&[0x1f, 0x8b, 8, 0]), Format::Gzip);
        assert_eq!(
            classify(b"From a@b Mon Jan  5 10:00:00 2004\nX: y\n"),
            Format::Mbox
        );
        assert_eq!(
            classify(b"Return-Path: <>\nReceived: from x\n\tby y\nSubject: hi\n\nbody"),
            Format::Single
        );
        assert_eq!(classify(b"\x00\x01binary junk\xff\xfe"), Format::NotMail);
        assert_eq!(
            classify(b"Received: from x\r\n\tby y\r\nFrom: a@b\r\n\r\nbody"),
            Format::Single
        );
        assert_eq!(
            classify(b"Received: from x\r\tby y\rFrom: a@b\r\rbody"),
            Format::Single
        );
        assert_eq!(classify(b"From a@e\nxample Thu Oct  1 03:32:50 2026\nX: y\n\nbody\n\nFrom b@example.jp Thu Oct  1 03:40:00 2026\nX: z\n\nbody\n"), Format::Mbox);
        assert_eq!(classify(b"just a text file\nwith lines\n"), Format::NotMail);
        assert_eq!(classify(b"[Desktop]\nIcon=1\n"), Format::NotMail);
    }
}
