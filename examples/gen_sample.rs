//! Writes the sample data set: the hijacked scenario as an mbox and as a
//! Maildir, plus one folder per scenario in different export formats.
//!
//! `cargo run --example gen_sample -- DIR [PLANTED.tsv]`
//!
//! Every child of DIR is one mailbox, so `bouncetrail scan --batch DIR`
//! triages them all:
//!
//! DIR/tanaka.mbox               hijacked account, inbox only (mboxo, LF)
//! DIR/tanaka-maildir/           the same account as Maildir++, spam copies in .Sent
//! DIR/shop-backscatter/       backscatter victim as a folder of .eml files (CRLF)
//! DIR/yamada-no-originals.mbox.gz flood without returned originals, 3-member gzip mbox
//! DIR/suzuki-clean.mbox         clean mailbox, mboxrd with CRLF line ends
//!
//! PLANTED.tsv (optional, outside DIR) lists the planted rows of every scenario.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use bouncetrail::synth::{self, Scenario};

fn planted_rows(s: &Scenario, out: &mut String) {
    for p in &s.planted {
        out.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
            s.name,
            p.kind,
            p.style,
            p.recipient,
            p.status.as_deref().unwrap_or(""),
            p.reply_code.map(|c| c.to_string()).unwrap_or_default(),
            p.reason,
            p.action,
            p.original_message_id.as_deref().unwrap_or(""),
            p.origin_ip.as_deref().unwrap_or(""),
            p.bounce_date,
            p.in_campaign
        ));
    }
}

fn write_all(dir: &Path, planted: Option<&Path>) -> std::io::Result<()> {
    let [h, b, n, c] = synth::write_sample_data(dir)?;
    let mut tsv = String::from(
        "scenario\tkind\tstyle\trecipient\tstatus\treply_code\treason\taction\toriginal_message_id\torigin_ip\tbounce_date\tin_campaign\n",
    );
    for s in [&h, &b, &n, &c] {
        planted_rows(s, &mut tsv);
    }
    if let Some(p) = planted {
        fs::File::create(p)?.write_all(tsv.as_bytes())?;
    }
    for s in [&h, &b, &n, &c] {
        eprintln!(
            "gen_sample: {:<13} inbox {:>3}  sent {:>3}  planted {:>3}  verdict {}",
            s.name,
            s.inbox.len(),
            s.sent.len(),
            s.planted.len(),
            s.expected_verdict
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: gen_sample DIR [PLANTED.tsv]");
        return ExitCode::from(2);
    };
    let dir = Path::new(&dir);
    // Sample data is written fresh, never merged into an existing folder.
    if dir.exists()
        && fs::read_dir(dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        eprintln!(
            "gen_sample: {} exists and is not empty; choose a new directory",
            dir.display()
        );
        return ExitCode::from(2);
    }
    let planted = std::env::args().nth(2);
    match write_all(dir, planted.as_deref().map(Path::new)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gen_sample: {}: {}", dir.display(), e);
            ExitCode::from(1)
        }
    }
}
