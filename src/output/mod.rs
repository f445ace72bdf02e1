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

    fn opt_text(&mut self, v: Option<&str>) {
        match v {
            Some(v) => self.text(v),
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
}
