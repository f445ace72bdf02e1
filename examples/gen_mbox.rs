//! Writes a large mixed mbox for end-to-end benchmarks.
//!
//! `cargo run --release --example gen_mbox -- OUT.mbox SIZE_MB [SEED]`
//! Ordinary mail (a quarter with 20-600 KB attachments) and 5 % bounces, all
//! generated; the same SEED always gives the same file.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 || args.len() > 3 {
        eprintln!("usage: gen_mbox OUT.mbox SIZE_MB [SEED]");
        return ExitCode::from(2);
    }
    let size_mb: u64 = match args[1].parse() {
        Ok(n) => n,
        Err(_) => {
            eprintln!(
                "gen_mbox: SIZE_MB must be a whole number, got {:?}",
                args[1]
            );
            return ExitCode::from(2);
        }
    };
    let seed: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1);
    let path = std::path::Path::new(&args[0]);
    // Test input is written fresh; refuse to overwrite something that exists.
    if path.exists() {
        eprintln!(
            "gen_mbox: {} already exists; choose a new file name",
            path.display()
        );
        return ExitCode::from(2);
    }
    let run = || -> std::io::Result<u64> {
        let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
        let n = bouncetrail::synth::mixed_mbox(&mut out, size_mb * 1024 * 1024, seed)?;
        out.flush()?;
        Ok(n)
    };
    match run() {
        Ok(n) => {
            eprintln!("gen_mbox: wrote {} messages to {}", n, path.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gen_mbox: {}: {}", path.display(), e);
            ExitCode::from(1)
        }
    }
}
