//! Stage 7: the writers. Every file is written under a temporary name in the
//! output folder and renamed when complete, so a crash never leaves a
//! half-written report that looks whole.

pub mod csv;
pub mod json;

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::Error;

/// Creates the output folder and checks it can be written, before any scan.
pub fn prepare(out: &Path) -> Result<(), Error> {
    fs::create_dir_all(out).map_err(|source| Error::Output {
        path: out.to_path_buf(),
        source,
    })?;
    let probe = out.join(".bouncetrail-write-test");
    File::create(&probe).map_err(|source| Error::Output {
        path: out.to_path_buf(),
        source,
    })?;
    let _ = fs::remove_file(probe);
    Ok(())
}

/// Rows per block, and blocks encoded at once: a window of 1,024 rows
/// (about 1.3 MB of timeline text) is encoded while the one before it is
/// written, so two windows are the most held in memory.
const BLOCK_ROWS: usize = 128;
const WINDOW_BLOCKS: usize = 8;

/// A writer that can be handed to another thread.
pub type Out<'a> = &'a mut (dyn Write + Send);

/// Encodes `rows` block by block on all threads with `encode` (which
/// appends a block's bytes to the buffer it is given) and writes the
/// blocks in row order: the same bytes as one sequential pass, in a
/// fraction of the time on a large timeline, and in bounded memory.
pub fn write_blocks<T: Sync>(
    w: Out<'_>,
    rows: &[T],
    encode: impl Fn(&[T], &mut Vec<u8>) -> std::io::Result<()> + Sync,
) -> std::io::Result<()> {
    use rayon::prelude::*;
    // Two sets of buffers, one per block of a window, kept from window to
    // window: fresh memory costs the kernel a page clearing on first touch,
    // reused memory does not. While the bytes of one window go to the file
    // (the kernel copies them, one file at a time), the other threads
    // encode the next window into the other set.
    let blocks = rows.len().div_ceil(BLOCK_ROWS).min(WINDOW_BLOCKS);
    let mut encoded: Vec<Vec<u8>> = (0..blocks).map(|_| Vec::new()).collect();
    let mut spare: Vec<Vec<u8>> = (0..blocks).map(|_| Vec::new()).collect();
    let mut ready = 0;
    for window in rows.chunks(BLOCK_ROWS * WINDOW_BLOCKS) {
        let (written, done) = rayon::join(
            || encoded[..ready].iter().try_for_each(|b| w.write_all(b)),
            || {
                window
                    .par_chunks(BLOCK_ROWS)
                    .zip(spare.par_iter_mut())
                    .try_for_each(|(block, out)| {
                        out.clear();
                        // A timeline row is about a kilobyte of text: sized
                        // once, the buffer seldom grows (and copies) again.
                        out.reserve(block.len() * 1024);
                        encode(block, out)
                    })
            },
        );
        written?;
        done?;
        std::mem::swap(&mut encoded, &mut spare);
        ready = window.len().div_ceil(BLOCK_ROWS);
    }
    encoded[..ready].iter().try_for_each(|b| w.write_all(b))
}

/// Writes one output file atomically: `write` fills a buffered temporary
/// file that is renamed to `name` when it succeeds.
pub fn write_file(
    out: &Path,
    name: &str,
    write: impl FnOnce(Out<'_>) -> std::io::Result<()>,
) -> Result<PathBuf, Error> {
    let final_path = out.join(name);
    let tmp = out.join(format!(".{name}.partial"));
    let err = |source| Error::Output {
        path: final_path.clone(),
        source,
    };
    let file = File::create(&tmp).map_err(err)?;
    let mut w = BufWriter::with_capacity(1 << 16, file);
    write(&mut w).map_err(err)?;
    w.flush().map_err(err)?;
    drop(w);
    fs::rename(&tmp, &final_path).map_err(err)?;
    Ok(final_path)
}

/// A row type that hands its values to the writers itself, one call per
/// column, in the order and under the names of its serde fields. The
/// timeline writers run for every row in two formats, and serde's derived
/// code dispatches every field through several generic layers; this is one
/// plain call per value. A test per type checks the bytes are serde's.
pub trait Row {
    /// The serde field names, in order: the CSV header and the JSON keys.
    const COLUMNS: &'static [&'static str];
    /// Hands `to` one value per column, in column order.
    fn cells(&self, to: &mut impl Values);
}

/// What a writer takes of a row, value by value (`None` is an empty CSV
/// cell, JSON `null`).
pub trait Values {
    fn text(&mut self, v: &str);
    fn none(&mut self);
    fn uint(&mut self, v: u64);
    fn boolean(&mut self, v: bool);

    /// A text this program made that has no byte to quote or escape in
    /// JSON (names from its own tables, ISO times, status codes): the JSON
    /// writer copies it without looking for one, about half the values of
    /// a timeline row. Other writers take it as any text.
    fn plain(&mut self, v: &str) {
        self.text(v);
    }

    fn opt_text(&mut self, v: Option<&str>) {
        match v {
            Some(v) => self.text(v),
            None => self.none(),
        }
    }
    fn opt_plain(&mut self, v: Option<&str>) {
        match v {
            Some(v) => self.plain(v),
            None => self.none(),
        }
    }
    fn opt_uint(&mut self, v: Option<u64>) {
        match v {
            Some(v) => self.uint(v),
            None => self.none(),
        }
    }
    fn opt_boolean(&mut self, v: Option<bool>) {
        match v {
            Some(v) => self.boolean(v),
            None => self.none(),
        }
    }
}

/// Appends `v` in decimal, as `Display` writes it (the writers' numbers,
/// without the formatting machinery).
pub(crate) fn push_uint(out: &mut Vec<u8>, mut v: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// Whether any byte of `s` passes `special` (which must be written with
/// `|`, not `||`, so that it has no branches): the writers check every
/// cell for bytes to quote or escape. Tested 16 bytes at a time in a loop
/// the compiler turns into vector compares; the last block overlaps the one
/// before, and a string shorter than a block is copied into one padded
/// with `a`, which no test passes.
#[inline(always)]
pub(crate) fn any_byte(s: &[u8], special: impl Fn(u8) -> bool + Copy) -> bool {
    let block = |b: &[u8; 16]| b.iter().fold(0u8, |a, &x| a | u8::from(special(x))) != 0;
    match s.last_chunk::<16>() {
        Some(last) => {
            s.chunks_exact(16)
                .any(|c| c.first_chunk().is_some_and(block))
                || block(last)
        }
        None => {
            let mut padded = [b'a'; 16];
            padded[..s.len()].copy_from_slice(s);
            block(&padded)
        }
    }
}

/// Blocks of output made by any worker, written in input order as soon as
/// every block before them is written (`decode` streams its rows this way).
///
/// A block is keyed by its source (in discovery order) and its chunk within
/// the source; a source is passed once [`Ordered::end`] says how many
/// chunks it had. Workers take chunks roughly in order ([`crate::scan`]),
/// so only a few blocks wait at a time: memory stays bounded whatever the
/// input size, the writing overlaps the decoding, and written buffers are
/// handed back for the next blocks (reused memory costs the kernel no page
/// clearing, fresh memory does).
pub struct Ordered<'w> {
    state: std::sync::Mutex<OrderedState<'w>>,
    failed: std::sync::atomic::AtomicBool,
}

struct OrderedState<'w> {
    out: Out<'w>,
    /// The block to write next: (source, chunk).
    next: (usize, usize),
    /// Chunks per source, once the source is done.
    ends: Vec<Option<usize>>,
    waiting: std::collections::BTreeMap<(usize, usize), Vec<u8>>,
    spare: Vec<Vec<u8>>,
    error: Option<std::io::Error>,
}

impl<'w> Ordered<'w> {
    /// A writer to `out` for blocks of `sources` sources.
    pub fn new(out: Out<'w>, sources: usize) -> Ordered<'w> {
        Ordered {
            state: std::sync::Mutex::new(OrderedState {
                out,
                next: (0, 0),
                ends: vec![None; sources],
                waiting: Default::default(),
                spare: Vec::new(),
                error: None,
            }),
            failed: Default::default(),
        }
    }

    /// An empty buffer for a block: one already written, when there is one.
    pub fn buffer(&self) -> Vec<u8> {
        self.lock().spare.pop().unwrap_or_default()
    }

    /// Hands over chunk `chunk` of source `source`; it is written at once
    /// if every block before it is, else when they are.
    pub fn put(&self, source: usize, chunk: usize, block: Vec<u8>) {
        let mut state = self.lock();
        state.waiting.insert((source, chunk), block);
        self.drain(&mut state);
    }

    /// Says that source `source` had `chunks` chunks (`0..chunks` are put).
    pub fn end(&self, source: usize, chunks: usize) {
        let mut state = self.lock();
        if let Some(end) = state.ends.get_mut(source) {
            *end = Some(chunks);
        }
        self.drain(&mut state);
    }

    /// Whether a write failed (a closed pipe, a full disk): the work left
    /// can stop, its blocks would not be written.
    pub fn failed(&self) -> bool {
        self.failed.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The first write error, if any. Every source must have ended.
    pub fn finish(&self) -> std::io::Result<()> {
        let mut state = self.lock();
        match state.error.take() {
            Some(e) => Err(e),
            None => {
                debug_assert!(state.waiting.is_empty(), "blocks left unwritten");
                debug_assert_eq!(state.next.0, state.ends.len(), "sources left open");
                Ok(())
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, OrderedState<'w>> {
        // A worker that panicked holding the lock left the state whole
        // (every step below is complete before the next): go on with it.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Writes every block that is next in order.
    fn drain(&self, state: &mut OrderedState<'w>) {
        loop {
            if let Some(mut block) = state.waiting.remove(&state.next) {
                if state.error.is_none() {
                    if let Err(e) = state.out.write_all(&block) {
                        state.error = Some(e);
                        self.failed
                            .store(true, std::sync::atomic::Ordering::Relaxed);
                    }
                }
                block.clear();
                // One spare per worker and a few more is all that is reused.
                if block.capacity() > 0 && state.spare.len() < 16 {
                    state.spare.push(block);
                }
                state.next.1 += 1;
            } else if state.ends.get(state.next.0).copied().flatten() == Some(state.next.1) {
                state.next = (state.next.0 + 1, 0);
            } else {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_byte_sees_every_position() {
        let special = |b: u8| (b == b'"') | (b < 0x20);
        for len in 0..70 {
            let clean = vec![b'a'; len];
            assert!(!any_byte(&clean, special), "{len}");
            for at in 0..len {
                for byte in [b'"', b'\n', 0] {
                    let mut s = clean.clone();
                    s[at] = byte;
                    assert!(any_byte(&s, special), "{len} {at} {byte}");
                }
            }
        }
    }

    #[test]
    fn numbers_are_display() {
        for v in [0, 1, 9, 10, 99, 100, 12345, u64::from(u16::MAX), u64::MAX] {
            let mut out = b"x".to_vec();
            push_uint(&mut out, v);
            assert_eq!(out, format!("x{v}").into_bytes());
        }
    }

    #[test]
    fn blocks_are_written_in_row_order_across_windows() {
        let rows: Vec<usize> = (0..BLOCK_ROWS * WINDOW_BLOCKS * 2 + 77).collect();
        let mut got = Vec::new();
        write_blocks(&mut got, &rows, |block, out| {
            for r in block {
                writeln!(out, "{r}")?;
            }
            Ok(())
        })
        .unwrap();
        let want: String = rows.iter().map(|r| format!("{r}\n")).collect();
        assert_eq!(String::from_utf8(got).unwrap(), want);
    }

    #[test]
    fn an_encoding_error_stops_the_write() {
        let rows = vec![1, 2, 3];
        let mut got = Vec::new();
        let r = write_blocks(&mut got, &rows, |_, _| {
            Err(std::io::Error::other("bad row"))
        });
        assert!(r.is_err());
    }

    /// A writer that fails after `ok` bytes, like a closed pipe.
    struct Closing {
        got: Vec<u8>,
        ok: usize,
    }

    impl Write for Closing {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.got.len() + buf.len() > self.ok {
                return Err(std::io::ErrorKind::BrokenPipe.into());
            }
            self.got.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn ordered_blocks_go_out_in_source_and_chunk_order() {
        let mut got = Vec::new();
        {
            let out = Ordered::new(&mut got, 4);
            // Source 1 has no chunks (an unreadable file); source 3 ends
            // before anything of source 0 is in.
            out.put(2, 1, b"2.1 ".to_vec());
            out.end(1, 0);
            out.put(3, 0, b"3.0 ".to_vec());
            out.end(3, 1);
            out.put(0, 1, b"0.1 ".to_vec());
            out.put(2, 0, Vec::new());
            out.end(2, 2);
            out.put(0, 0, b"0.0 ".to_vec());
            out.end(0, 2);
            out.finish().unwrap();
        }
        assert_eq!(got, b"0.0 0.1 2.1 3.0 ");
    }

    #[test]
    fn ordered_blocks_wait_for_the_source_to_end() {
        let mut got = Vec::new();
        let out = Ordered::new(&mut got, 2);
        out.put(0, 0, b"a".to_vec());
        out.put(1, 0, b"b".to_vec());
        // Source 0 may still have chunks: source 1 waits.
        assert_eq!(out.lock().waiting.len(), 1);
        out.end(0, 1);
        out.end(1, 1);
        assert!(out.lock().waiting.is_empty());
        // Written blocks come back as spare buffers, emptied.
        let spare = out.buffer();
        assert!(spare.is_empty() && spare.capacity() > 0);
        out.finish().unwrap();
    }

    #[test]
    fn an_ordered_write_error_is_kept_and_stops_the_rest() {
        let mut w = Closing {
            got: Vec::new(),
            ok: 3,
        };
        {
            let out = Ordered::new(&mut w, 1);
            out.put(0, 0, b"abc".to_vec());
            assert!(!out.failed());
            out.put(0, 1, b"def".to_vec());
            assert!(out.failed());
            out.put(0, 2, b"ghi".to_vec());
            out.end(0, 3);
            let e = out.finish().unwrap_err();
            assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe);
        }
        assert_eq!(w.got, b"abc");
    }

    #[test]
    fn ordered_blocks_from_many_threads_keep_their_order() {
        let mut got = Vec::new();
        let (sources, chunks) = (7, 30);
        {
            let out = Ordered::new(&mut got, sources);
            let work: Vec<(usize, usize)> = (0..sources)
                .flat_map(|s| (0..chunks).map(move |c| (s, c)))
                .rev()
                .collect();
            std::thread::scope(|scope| {
                for part in work.chunks(work.len().div_ceil(4)) {
                    let out = &out;
                    scope.spawn(move || {
                        for &(s, c) in part {
                            let mut b = out.buffer();
                            b.extend_from_slice(format!("{s}.{c}\n").as_bytes());
                            out.put(s, c, b);
                        }
                    });
                }
            });
            for s in 0..sources {
                out.end(s, chunks);
            }
            out.finish().unwrap();
        }
        let want: String = (0..sources)
            .flat_map(|s| (0..chunks).map(move |c| format!("{s}.{c}\n")))
            .collect();
        assert_eq!(String::from_utf8(got).unwrap(), want);
    }
}
