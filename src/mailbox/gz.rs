//! Streamed gzip input: multi-member gzip is decompressed block by block and
//! split into messages with the same rules as a mapped mbox; only the
//! messages of one batch (plus one partial message) are in memory at a time.
//! Offsets are positions in the decompressed stream.

use std::io::{self, Read};

use flate2::read::MultiGzDecoder;

use super::mbox;
use crate::message::RawMessage;

/// How much decompressed text is split and handed on at a time.
const BATCH: usize = 8 << 20;
/// A single message larger than this is cut for analysis (the header and
/// the first part are what the decoders need); the rest is skipped.
pub const MAX_MESSAGE: usize = 64 << 20;

/// What the streamed read saw besides messages.
#[derive(Debug, Default)]
pub struct StreamStats {
    /// Decompressed bytes.
    pub bytes: u64,
    /// Messages cut at `MAX_MESSAGE`.
    pub truncated: u64,
    /// True when the content is one message rather than an mbox.
    pub single: bool,
    /// Bytes before the first `From ` line (damage or junk), skipped.
    pub lead: u64,
}

/// Decompresses `input` and calls `each` with batches of messages, in order.
/// A decompression error (a truncated file) ends the stream: what was read
/// before it has been handed on, and the error is returned.
pub fn for_each_batch<R: Read>(
    input: R,
    mut each: impl FnMut(&[RawMessage<'_>]),
) -> io::Result<StreamStats> {
    let mut dec = MultiGzDecoder::new(input);
    let mut stats = StreamStats::default();
    let mut buf: Vec<u8> = Vec::with_capacity(BATCH + (1 << 20));
    // Offset of buf[0] in the decompressed stream.
    let mut base: u64 = 0;
    let mut index: u64 = 0;
    let mut first = true;
    let mut eof = false;
    let mut err = None;
    let mut seps = Vec::new();
    while !eof {
        // Fill up to one batch.
        let target = buf.len() + BATCH;
        while buf.len() < target {
            let old = buf.len();
            buf.resize(old + (1 << 20), 0);
            match dec.read(&mut buf[old..]) {
                Ok(0) => {
                    buf.truncate(old);
                    eof = true;
                    break;
                }
                Ok(n) => buf.truncate(old + n),
                Err(e) => {
                    buf.truncate(old);
                    eof = true;
                    err = Some(e);
                    break;
                }
            }
        }
        if first {
            first = false;
            stats.single = !mbox::looks_like_mbox(&buf)
                && super::classify(&buf[..buf.len().min(64 << 10)]) != super::Format::Mbox;
        }
        if stats.single {
            // One message: keep reading to the end but analyse at most MAX_MESSAGE.
            if buf.len() > MAX_MESSAGE {
                stats.truncated = 1;
                stats.bytes += (buf.len() - MAX_MESSAGE) as u64;
                buf.truncate(MAX_MESSAGE);
            }
            if eof {
                stats.bytes += buf.len() as u64;
                each(&[RawMessage {
                    bytes: &buf,
                    offset: 0,
                    index: 0,
                }]);
            }
            continue;
        }
        seps.clear();
        mbox::separators_in(&buf, 0..buf.len(), &mut seps);
        // The last separator's message may be incomplete unless at the end.
        let complete = if eof {
            seps.len()
        } else {
            seps.len().saturating_sub(1)
        };
        if complete > 0 {
            let keep_from = if eof { buf.len() } else { seps[complete] };
            let ranges = mbox::message_ranges(&buf[..keep_from], &seps[..complete]);
            let msgs: Vec<RawMessage<'_>> = ranges
                .into_iter()
                .map(|(sep, r)| {
                    let m = RawMessage {
                        bytes: &buf[r],
                        offset: base + sep as u64,
                        index,
                    };
                    index += 1;
                    m
                })
                .collect();
            each(&msgs);
            drop(msgs);
            buf.drain(..keep_from);
            stats.bytes += keep_from as u64;
            base += keep_from as u64;
        } else if buf.len() > MAX_MESSAGE {
            // One message larger than the cap: keep its head, drop the middle,
            // keep looking for the next separator in what follows.
            let head = MAX_MESSAGE / 2;
            let tail_keep = 1 << 16;
            let cut = buf.len() - tail_keep;
            if cut > head {
                buf.drain(head..cut);
                stats.bytes += (cut - head) as u64;
                stats.truncated += 1;
            }
        }
        if eof && !buf.is_empty() && complete == 0 {
            // Trailing text with no separator: part of nothing; count it.
            stats.bytes += buf.len() as u64;
        }
    }
    match err {
        Some(e) => Err(e),
        None => Ok(stats),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{write::GzEncoder, Compression};
    use std::io::Write;

    fn gz(parts: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for p in parts {
            let mut e = GzEncoder::new(Vec::new(), Compression::fast());
            e.write_all(p).unwrap();
            out.extend(e.finish().unwrap());
        }
        out
    }

    #[test]
    fn multi_member_stream_splits_like_mbox() {
        let a = b"From a@b Mon Jan  5 10:00:00 2004\nS: 1\n\nx\n\n";
        let b = b"From c@d Tue Jan  6 10:00:00 2004\nS: 2\n\ny\n";
        let data = gz(&[a, b]);
        let mut got = Vec::new();
        let stats = for_each_batch(&data[..], |batch| {
            got.extend(batch.iter().map(|m| (m.index, m.offset, m.bytes.to_vec())));
        })
        .unwrap();
        assert!(!stats.single);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].2, b"S: 1\n\nx\n");
        assert_eq!(got[1].1, a.len() as u64);
    }

    #[test]
    fn truncated_gzip_keeps_what_was_read() {
        let mut body = Vec::new();
        for i in 0..2000 {
            body.extend_from_slice(
                format!(
                    "From a@b Mon Jan  5 10:00:00 2004\nS: {i}\n\n{}\n\n",
                    "z".repeat(5000)
                )
                .as_bytes(),
            );
        }
        let data = gz(&[&body]);
        let cut = &data[..data.len() * 3 / 4];
        let mut n = 0;
        let r = for_each_batch(cut, |batch| n += batch.len());
        assert!(r.is_err());
        assert!(n > 100, "messages before the damage are kept: {n}");
    }
}
