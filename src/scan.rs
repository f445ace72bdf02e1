//! Stages 2–5 for one source file: open → (hash ∥ split) → triage → parse →
//! decode → records. Large mboxes are split and processed in parallel
//! chunks; results are merged in input order, so the output never depends on
//! the thread count.

use std::collections::HashMap;
use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::bounce::{self, Kind};
use crate::config::Config;
use crate::discover::Source;
use crate::error::Problem;
use crate::mailbox::{self, gz, mbox, Format};
use crate::message::RawMessage;
use crate::output::{json, Ordered};
use crate::parse;
use crate::record::{self, Place, Record};
use crate::triage::{self, Triage};

/// Counts of what one source held.
#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct Counts {
    pub messages: u64,
    /// Messages that earned a full parse.
    pub parsed: u64,
    pub bounces: u64,
    pub autoreplies: u64,
    pub feedback: u64,
}

impl Counts {
    fn add(&mut self, o: &Counts) {
        self.messages += o.messages;
        self.parsed += o.parsed;
        self.bounces += o.bounces;
        self.autoreplies += o.autoreplies;
        self.feedback += o.feedback;
    }
}

/// Address counts for inferring a mailbox's owner.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    /// Delivered-To / X-Original-To of received mail.
    pub delivered_to: HashMap<String, u64>,
    /// To of ordinary received mail.
    pub to: HashMap<String, u64>,
    /// From of mail in sent folders.
    pub sent_from: HashMap<String, u64>,
}

impl Tally {
    fn merge(&mut self, o: Tally) {
        for (map, other) in [
            (&mut self.delivered_to, o.delivered_to),
            (&mut self.to, o.to),
            (&mut self.sent_from, o.sent_from),
        ] {
            for (k, v) in other {
                *map.entry(k).or_insert(0) += v;
            }
        }
    }
}

/// Adds the address in a header value to a count map, allocating only for
/// an address not seen before.
fn count_address(map: &mut HashMap<String, u64>, value: &[u8]) {
    let v = match (memchr::memchr(b'<', value), memchr::memrchr(b'>', value)) {
        (Some(a), Some(b)) if a < b => &value[a + 1..b],
        _ => value,
    };
    let v = triage::trim(v);
    // Only the first address of a list counts.
    let v = v.split(|&b| b == b',').next().unwrap_or(v);
    let v = triage::trim(v);
    if v.len() > 254
        || memchr::memchr(b'@', v).is_none()
        || v.iter().any(|b| b.is_ascii_whitespace())
    {
        return;
    }
    let mut buf = [0u8; 254];
    let lower = &mut buf[..v.len()];
    lower.copy_from_slice(v);
    lower.make_ascii_lowercase();
    let Ok(key) = std::str::from_utf8(lower) else {
        return;
    };
    match map.get_mut(key) {
        Some(n) => *n += 1,
        None => {
            map.insert(key.to_string(), 1);
        }
    }
}

/// Everything one source file yields.
#[derive(Debug, Default)]
pub struct SourceResult {
    pub sha256: Option<String>,
    pub size: u64,
    /// mbox, mbox.gz, message, empty, not-mail, unreadable.
    pub format: &'static str,
    pub counts: Counts,
    /// The rows, unless they went out as JSON Lines ([`RowsTo::Json`]).
    pub records: Vec<Record>,
    /// The rows that went out as JSON Lines.
    pub encoded_rows: usize,
    /// Chunks of messages the source was processed in.
    pub chunks: usize,
    pub problems: Vec<Problem>,
    pub tally: Tally,
    /// Message-IDs of the messages (sent folders only).
    pub sent_ids: Vec<String>,
}

/// What the scan does with the rows of each chunk of messages.
#[derive(Clone, Copy)]
pub enum RowsTo<'a, 'w> {
    /// Keeps them for the stages after the scan (`scan`: the timeline,
    /// campaigns and verdicts need every row).
    Keep,
    /// Encodes them as JSON Lines in the worker that decoded them, hands
    /// the block to `out` (which writes blocks in input order) and drops
    /// them (`decode`: the rows only go out, so their encoding and writing
    /// run alongside the decoding instead of after it, in bounded memory).
    Json {
        lines: &'a json::Lines<Record>,
        out: &'a Ordered<'w>,
    },
}

impl RowsTo<'_, '_> {
    /// Whether the rows can no longer go anywhere (their output failed):
    /// the messages left need not be read.
    fn stopped(&self) -> bool {
        matches!(self, RowsTo::Json { out, .. } if out.failed())
    }
}

/// Per-chunk accumulator; merged in chunk order.
#[derive(Default)]
struct Acc {
    counts: Counts,
    /// The rows kept ([`RowsTo::Keep`]); when they go out as JSON Lines,
    /// the rows of the message being decoded, until they are encoded.
    records: Vec<Record>,
    /// The chunk's rows as JSON Lines ([`RowsTo::Json`]).
    block: Vec<u8>,
    encoded_rows: usize,
    chunks: usize,
    problems: Vec<Problem>,
    tally: Tally,
    sent_ids: Vec<String>,
}

impl Acc {
    /// Takes the rows one message added to `records`: kept there, or
    /// encoded at once into the chunk's block while they are still in the
    /// cache and dropped ([`RowsTo`]).
    fn rows(&mut self, ctx: &Ctx<'_, '_>) {
        if let RowsTo::Json { lines, out } = ctx.rows {
            if self.block.capacity() == 0 {
                // A written block's buffer, already grown to the size
                // of a chunk's rows.
                self.block = out.buffer();
            }
            lines.encode(&self.records, &mut self.block);
            self.encoded_rows += self.records.len();
            self.records.clear();
        }
    }

    /// Ends chunk `chunk` of the source: its block goes out ([`RowsTo`]).
    fn seal(mut self, ctx: &Ctx<'_, '_>, chunk: usize) -> Acc {
        if let RowsTo::Json { out, .. } = ctx.rows {
            // Even an empty block: the writer goes past it in order.
            out.put(ctx.source_index, chunk, std::mem::take(&mut self.block));
        }
        self.chunks += 1;
        self
    }

    fn merge(&mut self, o: Acc) {
        self.counts.add(&o.counts);
        self.records.extend(o.records);
        self.encoded_rows += o.encoded_rows;
        self.chunks += o.chunks;
        self.problems.extend(o.problems);
        self.tally.merge(o.tally);
        self.sent_ids.extend(o.sent_ids);
    }
}

/// What the per-message work needs to know about its place.
struct Ctx<'a, 'w> {
    source: &'a Source,
    source_index: usize,
    /// The mailbox and source names, made once per file and shared by its rows.
    mailbox: Arc<str>,
    source_name: Arc<str>,
    rows: RowsTo<'a, 'w>,
}

impl<'a, 'w> Ctx<'a, 'w> {
    /// The context for one chunk of messages, with its own copies of the
    /// shared names: every row clones and drops them, and the reference
    /// count of one `Arc` shared by all workers is a cache line they would
    /// pass back and forth for every row.
    fn for_chunk(&self) -> Ctx<'a, 'w> {
        Ctx {
            source: self.source,
            source_index: self.source_index,
            mailbox: Arc::from(&*self.mailbox),
            source_name: Arc::from(&*self.source_name),
            rows: self.rows,
        }
    }
}

/// Scans one source.
pub fn scan_source(
    source: &Source,
    source_index: usize,
    mailbox: &str,
    config: &Config,
    rows: RowsTo<'_, '_>,
    progress: &crate::report::Progress,
) -> SourceResult {
    let ctx = Ctx {
        source,
        source_index,
        mailbox: Arc::from(mailbox),
        source_name: Arc::from(source.display.as_str()),
        rows,
    };
    let mut result = SourceResult {
        size: source.len,
        ..Default::default()
    };
    let content = match mailbox::open(&source.path) {
        Ok(c) => c,
        Err(e) => {
            result.format = "unreadable";
            result
                .problems
                .push(Problem::file(&source.display, format!("cannot read: {e}")));
            progress.advance(source.len, 0);
            return result;
        }
    };
    result.size = content.len() as u64;
    let format = mailbox::classify(&content[..content.len().min(64 << 10)]);
    let acc = match format {
        Format::Empty => {
            result.format = "empty";
            result
                .problems
                .push(Problem::file(&source.display, "empty file; skipped"));
            None
        }
        Format::NotMail => {
            result.format = "not-mail";
            result.problems.push(Problem::file(
                &source.display,
                "not mail (no mbox From_ line, no header fields); skipped",
            ));
            None
        }
        Format::Single => {
            result.format = "message";
            let msg = RawMessage {
                bytes: &content,
                offset: 0,
                index: 0,
            };
            let mut acc = Acc::default();
            process(&ctx, &msg, Quoting::Unknown, &mut acc);
            Some(acc.seal(&ctx, 0))
        }
        Format::Mbox => {
            result.format = "mbox";
            if config.hash && content.len() > (1 << 20) {
                // Hash on one worker while the others split and triage.
                let (h, acc) =
                    rayon::join(|| sha256(&content), || scan_mbox(&ctx, &content, progress));
                result.sha256 = Some(h);
                Some(acc)
            } else {
                Some(scan_mbox(&ctx, &content, progress))
            }
        }
        Format::Gzip => {
            result.format = "mbox.gz";
            let acc = scan_gzip(&ctx, config, &mut result);
            progress.advance(source.len, acc.counts.messages);
            Some(acc)
        }
    };
    if config.hash && result.sha256.is_none() && format != Format::Gzip {
        result.sha256 = Some(sha256(&content));
    }
    if !matches!(format, Format::Mbox | Format::Gzip) {
        progress.advance(source.len, acc.as_ref().map_or(0, |a| a.counts.messages));
    }
    if let Some(acc) = acc {
        result.counts = acc.counts;
        result.records = acc.records;
        result.encoded_rows = acc.encoded_rows;
        result.chunks = acc.chunks;
        result.problems.extend(acc.problems);
        result.tally = acc.tally;
        result.sent_ids = acc.sent_ids;
    }
    result
}

fn sha256(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    hex(&digest)
}

fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
}

/// Splits a mapped mbox in parallel and processes its messages in chunks.
fn scan_mbox(ctx: &Ctx<'_, '_>, hay: &[u8], progress: &crate::report::Progress) -> Acc {
    let mut acc_lead = None;
    // 1. Separators, searched in parallel slices of the file: a few per
    // worker, so the first touch of the mapped pages is shared too.
    let slice = (hay.len() / (4 * rayon::current_num_threads())).clamp(1 << 20, 32 << 20);
    let slices: Vec<_> = (0..hay.len().div_ceil(slice))
        .map(|i| i * slice..((i + 1) * slice).min(hay.len()))
        .collect();
    let (seps, quoted): (Vec<Vec<usize>>, Vec<Vec<usize>>) = slices
        .into_par_iter()
        .map(|r| {
            let (mut v, mut q) = (Vec::new(), Vec::new());
            mbox::split_in(hay, r, &mut v, &mut q);
            (v, q)
        })
        .unzip();
    let (seps, quoted) = (seps.concat(), quoted.concat());
    let ranges = mbox::message_ranges(hay, &seps);
    // Which messages hold a `>From ` line to unquote: known from the split,
    // so the others are not searched for one again.
    let mut rest = &quoted[..];
    let quoted: Vec<bool> = ranges
        .iter()
        .map(|(_, r)| mbox::has_quoted(&mut rest, r))
        .collect();
    let lead = hay.iter().take_while(|b| b.is_ascii_whitespace()).count();
    if let Some(&first) = seps.first().filter(|&&f| f > lead) {
        acc_lead = Some(Problem::at(
            &ctx.source.display,
            0,
            format!(
                "{first} bytes before the first mbox From_ line are damaged or not mail; skipped"
            ),
        ));
    }
    // 2. Messages in chunks, processed in parallel, merged in order.
    let mut chunks: Vec<std::ops::Range<usize>> = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (i, (_, r)) in ranges.iter().enumerate() {
        bytes += r.len();
        // Chunks end at 4 MiB or 128 messages, whichever comes first: large
        // enough to amortize the task, small enough that a file full of
        // bounces (each costing a full parse) still spreads over all workers.
        if bytes >= (4 << 20) || i + 1 - start >= 128 || i + 1 == ranges.len() {
            chunks.push(start..i + 1);
            start = i + 1;
            bytes = 0;
        }
    }
    let accs: Vec<Acc> = in_order(chunks.len(), |chunk| {
        let mut acc = Acc::default();
        if ctx.rows.stopped() {
            return acc;
        }
        let ctx = &ctx.for_chunk();
        let mut done = 0u64;
        for i in chunks[chunk].clone() {
            let (sep, r) = &ranges[i];
            let msg = RawMessage {
                bytes: &hay[r.clone()],
                offset: *sep as u64,
                index: i as u64,
            };
            let quoting = if quoted[i] {
                Quoting::Present
            } else {
                Quoting::Absent
            };
            process(ctx, &msg, quoting, &mut acc);
            done += (r.end - *sep) as u64;
        }
        progress.advance(done, acc.counts.messages);
        acc.seal(ctx, chunk)
    });
    let mut acc = Acc::default();
    acc.problems.extend(acc_lead);
    // Sized once: the rows of a large mbox are many megabytes, and growing
    // by doubling would copy them again and again.
    acc.records
        .reserve_exact(accs.iter().map(|a| a.records.len()).sum());
    for a in accs {
        acc.merge(a);
    }
    acc
}

/// Runs `work` on `0..n` on every worker, each taking the next index as soon
/// as it is free, so the work moves through the indices roughly in order
/// (a streamed output then waits on few blocks, see
/// [`crate::output::Ordered`]); results in index order.
pub(crate) fn in_order<T: Send>(n: usize, work: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let next = AtomicUsize::new(0);
    let workers = rayon::current_num_threads().clamp(1, n.max(1));
    let mut done: Vec<(usize, T)> = (0..workers)
        .into_par_iter()
        .flat_map_iter(|_| {
            let mut mine = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break mine;
                }
                mine.push((i, work(i)));
            }
        })
        .collect();
    done.sort_unstable_by_key(|&(i, _)| i);
    done.into_iter().map(|(_, t)| t).collect()
}

/// A reader that hashes what passes through it (the compressed evidence file).
struct HashingReader<R> {
    inner: R,
    hasher: Option<Sha256>,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(h) = &mut self.hasher {
            h.update(&buf[..n]);
        }
        Ok(n)
    }
}

fn scan_gzip(ctx: &Ctx<'_, '_>, config: &Config, result: &mut SourceResult) -> Acc {
    let mut acc = Acc::default();
    let file = match mailbox::open_stream(&ctx.source.path) {
        Ok(f) => f,
        Err(e) => {
            acc.problems.push(Problem::file(
                &ctx.source.display,
                format!("cannot read: {e}"),
            ));
            return acc;
        }
    };
    let mut reader = HashingReader {
        inner: std::io::BufReader::with_capacity(1 << 20, file),
        hasher: config.hash.then(Sha256::new),
    };
    let outcome = gz::for_each_batch(&mut reader, |batch| {
        if ctx.rows.stopped() {
            return;
        }
        let chunks: Vec<&[RawMessage<'_>]> = batch.chunks(64).collect();
        let first = acc.chunks;
        let parts = in_order(chunks.len(), |i| {
            let mut a = Acc::default();
            let ctx = &ctx.for_chunk();
            for m in chunks[i] {
                process(ctx, m, Quoting::Unknown, &mut a);
            }
            a.seal(ctx, first + i)
        });
        for a in parts {
            acc.merge(a);
        }
    });
    match outcome {
        Ok(stats) => {
            if stats.lead > 0 {
                acc.problems.push(Problem::at(
                    &ctx.source.display,
                    0,
                    format!("{} bytes before the first mbox From_ line are damaged or not mail; skipped", stats.lead),
                ));
            }
            if stats.truncated > 0 {
                acc.problems.push(Problem::file(
                    &ctx.source.display,
                    format!(
                        "{} message(s) over {} MiB were cut for analysis",
                        stats.truncated,
                        gz::MAX_MESSAGE >> 20
                    ),
                ));
            }
        }
        Err(e) => acc.problems.push(Problem::file(
            &ctx.source.display,
            format!("gzip stream damaged ({e}); messages before the damage were kept"),
        )),
    }
    // Drain the rest so the hash covers the whole file even after damage.
    let _ = std::io::copy(&mut reader, &mut std::io::sink());
    if let Some(h) = reader.hasher.take() {
        result.sha256 = Some(hex(&h.finalize()));
    }
    acc
}

/// Whether a message holds mbox `>From ` quoting to undo before parsing.
#[derive(Clone, Copy)]
enum Quoting {
    /// Not known: searched for.
    Unknown,
    /// Found while splitting the mbox.
    Present,
    /// The split saw none.
    Absent,
}

/// The per-message hot path: triage, and for bounce-like messages parse and decode.
fn process(ctx: &Ctx<'_, '_>, msg: &RawMessage<'_>, quoting: Quoting, acc: &mut Acc) {
    acc.counts.messages += 1;
    let mut layout = triage::HeaderLayout::new();
    let (decision, facts) = triage::triage_keeping(msg, &mut layout);
    if facts.header_unterminated && facts.fields == 0 {
        acc.problems.push(Problem::at(
            &ctx.source.display,
            msg.offset,
            "message has no header fields; skipped",
        ));
        return;
    }
    if facts.header_unterminated && msg.bytes.len() >= triage::MAX_HEADER {
        acc.problems.push(Problem::at(
            &ctx.source.display,
            msg.offset,
            format!(
                "header block larger than {} KiB; only its start was read",
                triage::MAX_HEADER >> 10
            ),
        ));
    }
    if ctx.source.sent_folder {
        if let Some(id) = facts.message_id {
            let id = String::from_utf8_lossy(triage::trim(id));
            acc.sent_ids
                .push(id.trim_start_matches('<').trim_end_matches('>').to_string());
        }
        if let Some(f) = facts.from {
            count_address(&mut acc.tally.sent_from, f);
        }
        return;
    }
    let hints = match decision {
        Triage::Ordinary => None,
        Triage::BounceLike(h) => Some(h),
        Triage::CheckSubject(h) => facts
            .subject
            .map(parse::decode_header_bytes)
            .and_then(|s| triage::subject_is_bounce_like(&s, h)),
    };
    let Some(hints) = hints else {
        for v in [facts.delivered_to, facts.x_original_to]
            .into_iter()
            .flatten()
        {
            count_address(&mut acc.tally.delivered_to, v);
        }
        if let Some(to) = facts.to {
            count_address(&mut acc.tally.to, to);
        }
        return;
    };
    acc.counts.parsed += 1;
    // Decoding is the most complex code that input reaches. A bug there must
    // cost one message, not the scan: a panic becomes a counted problem.
    let kept = acc.records.len();
    let decoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        decode(
            ctx,
            msg,
            quoting,
            hints,
            &layout,
            &mut acc.problems,
            &mut acc.records,
        )
    }));
    match decoded {
        Ok(Some(kind)) => {
            match kind {
                Kind::Autoreply => acc.counts.autoreplies += 1,
                Kind::Feedback => acc.counts.feedback += 1,
                _ => acc.counts.bounces += 1,
            }
            acc.rows(ctx);
        }
        Ok(None) => {}
        Err(panic) => {
            // No row of a message that failed half way.
            acc.records.truncate(kept);
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            acc.problems.push(Problem::at(
                &ctx.source.display,
                msg.offset,
                format!("internal error while decoding this message ({what}); skipped — please report it"),
            ));
        }
    }
}

/// Parses and decodes one bounce-like message, its rows appended to
/// `rows`. A damaged MIME structure is warned about and the message still
/// decoded as far as it can be read.
fn decode(
    ctx: &Ctx<'_, '_>,
    msg: &RawMessage<'_>,
    quoting: Quoting,
    hints: triage::Hints,
    layout: &triage::HeaderLayout,
    problems: &mut Vec<Problem>,
    rows: &mut Vec<Record>,
) -> Option<Kind> {
    let unquoted = match quoting {
        Quoting::Unknown => mbox::unquote_from(msg.bytes),
        Quoting::Present => mbox::unquote_lines(msg.bytes),
        Quoting::Absent => std::borrow::Cow::Borrowed(msg.bytes),
    };
    let bytes = parse::normalize_unquoted(unquoted);
    // Triage's walk of the header block is taken over when the parse reads
    // the very bytes triage read (no quoting undone, no line ends rewritten).
    let parsed =
        if std::ptr::eq(bytes.as_ptr(), msg.bytes.as_ptr()) && bytes.len() == msg.bytes.len() {
            parse::parse_with(&bytes, layout)
        } else {
            parse::parse(&bytes)
        };
    if let Some(defect) = parsed.defect() {
        problems.push(Problem::at(
            &ctx.source.display,
            msg.offset,
            format!("broken MIME: {defect}"),
        ));
    }
    let mut input = bounce::Input::new(&parsed, hints);
    let b = bounce::decode(&input)?;
    let place = Place {
        mailbox: &ctx.mailbox,
        mailbox_index: ctx.source.mailbox,
        source: &ctx.source_name,
        source_index: ctx.source_index,
        offset: msg.offset,
        index: msg.index,
        kept: matches!(ctx.rows, RowsTo::Keep),
    };
    let date = parsed.header("Date");
    // The decoded From and Subject are done with: they move into the rows.
    let from = std::mem::take(&mut input.from);
    let subject = std::mem::take(&mut input.subject);
    let kind = b.kind;
    record::records(b, &place, date.as_deref(), from, subject, rows);
    Some(kind)
}
