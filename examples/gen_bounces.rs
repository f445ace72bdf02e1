//! Writes a bounce-only mbox (every message a bounce, all ten MTA styles,
//! RFC 3464 and plain text) for the decoder throughput benchmark.
//!
//! `cargo run --release --example gen_bounces -- OUT.mbox COUNT [SEED]`

use std::io::{BufWriter, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: gen_bounces OUT.mbox COUNT [SEED]");
        return ExitCode::from(2);
    }
    let Ok(count) = args[2].parse::<u64>() else {
        eprintln!("gen_bounces: COUNT must be a number");
        return ExitCode::from(2);
    };
    let seed = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1);
    let path = std::path::Path::new(&args[1]);
    if path.exists() {
        eprintln!("gen_bounces: {} exists; choose a new file", path.display());
        return ExitCode::from(2);
    }
    let result = std::fs::File::create(path).and_then(|f| {
        let mut w = BufWriter::new(f);
        let n = bouncetrail::synth::bounce_mbox(&mut w, count, seed)?;
        w.flush()?;
        Ok(n)
    });
    match result {
        Ok(bytes) => {
            eprintln!(
                "gen_bounces: wrote {count} bounces ({bytes} bytes) to {}",
                path.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gen_bounces: {}: {e}", path.display());
            ExitCode::from(1)
        }
    }
}
