//! JSON Lines for the timeline (raw values, one object per row) and pretty
//! JSON for the summary.

use std::io::Write;

use serde::Serialize;

/// One JSON object per line.
pub fn write_lines<T: Serialize>(w: &mut dyn Write, rows: &[T]) -> std::io::Result<()> {
    for row in rows {
        serde_json::to_writer(&mut *w, row)?;
        w.write_all(b"\n")?;
    }
    Ok(())
}

/// One pretty-printed JSON document.
pub fn write_pretty<T: Serialize>(w: &mut dyn Write, value: &T) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, value)?;
    w.write_all(b"\n")
}
