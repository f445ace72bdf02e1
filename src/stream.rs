//! `bouncetrail decode`: stages 1–5 and the rows, nothing after them.
//!
//! Every decoded row goes to one writer (stdout) as a JSON object per line,
//! with the keys and values of `timeline.jsonl`, in input order: files in
//! discovery order, messages in file order. Campaigns are not reconstructed
//! and mailboxes not judged, so `campaign` is always null, and no report
//! folder is written; inputs are not hashed (`scan` records the SHA-256 of
//! its inputs in summary.json — use it for evidence).
//!
//! The rows are streamed: the workers encode each chunk's rows and hand the
//! block to [`Ordered`], which writes it as soon as every block before it
//! is written. Memory is bounded, whatever the input size, and a write
//! error (a closed pipe) stops the scan.
//!
//! What it is for: a quick look or a pipe into `jq`/`grep` without a report
//! folder, and the like-for-like comparison with other bounce parsers, which
//! decode and print and do nothing after that (see BENCHMARKS.md).

use crate::error::Error;
use crate::output::{json, Ordered, Out};
use crate::scan::RowsTo;
use crate::{scan_all, Config, Problem};

/// What a `decode` run produced, besides the rows it wrote.
#[derive(Debug, Default)]
pub struct Decoded {
    /// Messages read, and rows written.
    pub messages: u64,
    pub rows: usize,
    /// Problems with inputs, in input order (also printed as warnings).
    pub problems: Vec<Problem>,
}

/// Decodes every input and writes its rows to `w` as JSON Lines.
pub fn decode(config: &Config, w: Out<'_>) -> Result<Decoded, Error> {
    let found = crate::discover::discover(&config.inputs, config.batch)?;
    crate::thread_pool(config)?.install(|| {
        // The workers encode the rows of each chunk as they decode it, and
        // the blocks go out in input order as soon as they can.
        let lines = json::Lines::new();
        let out = Ordered::new(&mut *w, found.sources.len());
        let results = scan_all(
            &found,
            config,
            RowsTo::Json {
                lines: &lines,
                out: &out,
            },
        );
        let problems = crate::collect_problems(&found, &results);
        out.finish().map_err(|source| Error::Output {
            path: "standard output".into(),
            source,
        })?;
        crate::any_readable(&results)?;
        Ok(Decoded {
            messages: results.iter().map(|r| r.counts.messages).sum(),
            rows: results.iter().map(|r| r.encoded_rows).sum(),
            problems,
        })
    })
}
