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

/// Whether any byte of `s` passes `byte`, testing eight bytes at a time with
/// `word` (a SWAR test built from [`has_byte`] and [`has_below`], exact for
/// "any"): the writers scan every cell for bytes to quote or escape.
pub(crate) fn any_byte(s: &[u8], word: impl Fn(u64) -> bool, byte: impl Fn(u8) -> bool) -> bool {
    let Some(last) = s.last_chunk::<8>() else {
        return s.iter().any(|&b| byte(b));
    };
    let mut chunks = s.chunks_exact(8);
    for c in &mut chunks {
        if word(u64::from_le_bytes(c.try_into().expect("8 bytes"))) {
            return true;
        }
    }
    // The bytes after the last whole chunk: the last eight bytes, some
    // tested twice, rather than one by one.
    !chunks.remainder().is_empty() && word(u64::from_le_bytes(*last))
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Non-zero when a byte of `x` equals `b`.
pub(crate) fn has_byte(x: u64, b: u8) -> u64 {
    let y = x ^ (ONES * b as u64);
    y.wrapping_sub(ONES) & !y & HIGHS
}

/// Non-zero when a byte of `x` is below `n` (`n` ≤ 128).
pub(crate) fn has_below(x: u64, n: u8) -> u64 {
    x.wrapping_sub(ONES * n as u64) & !x & HIGHS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_byte_sees_every_position() {
        let word = |x: u64| has_byte(x, b'"') | has_below(x, 0x20) != 0;
        let byte = |b: u8| b == b'"' || b < 0x20;
        for len in 0..40 {
            let clean = vec![b'a'; len];
            assert!(!any_byte(&clean, word, byte), "{len}");
            for at in 0..len {
                for special in [b'"', b'\n', 0] {
                    let mut s = clean.clone();
                    s[at] = special;
                    assert!(any_byte(&s, word, byte), "{len} {at} {special}");
                }
            }
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
