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

/// Writes one output file atomically: `write` fills a buffered temporary
/// file that is renamed to `name` when it succeeds.
pub fn write_file(
    out: &Path,
    name: &str,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
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
