//! Writers that lay generated messages out as mailbox exports.
//!
//! Takes message bytes (LF, no `From ` line) and writes mbox (mboxo or
//! mboxrd quoting, LF/CRLF/CR), multi-member gzip mbox, Maildir/Maildir++ and
//! folders of `.eml` files. Each writer creates fresh files; they are test
//! input, so nothing here ever appends to or rewrites an existing mailbox.
//! [`mixed_mbox`] streams the large benchmark corpus.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::Path;

use flate2::write::GzEncoder;
use flate2::Compression;

use super::scenario::random_bounce;
use super::text::ordinary_with_attachment;
use super::{asctime, bare_address, header_value, parse_date, LineEnding, Rng};

/// Envelope sender and time for a message's `From ` line: Return-Path (`<>`
/// becomes MAILER-DAEMON, as local delivery agents write it), else From; the
/// Date header, else the epoch.
fn envelope(msg: &[u8]) -> (String, i64) {
    let sender = match header_value(msg, "Return-Path") {
        Some(rp) if rp.trim() == "<>" => "MAILER-DAEMON".to_string(),
        Some(rp) => bare_address(&rp),
        None => header_value(msg, "From")
            .map(|f| bare_address(&f))
            .unwrap_or_else(|| "MAILER-DAEMON".into()),
    };
    let sender = if sender.is_empty() || sender.contains(char::is_whitespace) {
        "MAILER-DAEMON".into()
    } else {
        sender
    };
    let date = header_value(msg, "Date")
        .and_then(|d| parse_date(&d))
        .unwrap_or(0);
    (sender, date)
}

/// True when `line` needs one more '>' under the chosen convention: mboxo
/// quotes only "From ", mboxrd also any ">...>From " so it can be undone.
fn needs_quote(line: &[u8], mboxrd: bool) -> bool {
    if mboxrd {
        let n = line.iter().take_while(|&&b| b == b'>').count();
        line[n..].starts_with(b"From ")
    } else {
        line.starts_with(b"From ")
    }
}

/// Writes one message as an mbox entry: `From ` line, quoted body, blank line.
fn write_entry(out: &mut impl Write, msg: &[u8], le: LineEnding, mboxrd: bool) -> io::Result<u64> {
    let eol: &[u8] = match le {
        LineEnding::Lf => b"\n",
        LineEnding::CrLf => b"\r\n",
        LineEnding::Cr => b"\r",
    };
    let (sender, date) = envelope(msg);
    let from_line = format!("From {} {}", sender, asctime(date));
    let mut n = 0u64;
    out.write_all(from_line.as_bytes())?;
    out.write_all(eol)?;
    n += (from_line.len() + eol.len()) as u64;
    let body = msg.strip_suffix(b"\n").unwrap_or(msg);
    for line in body.split(|&b| b == b'\n') {
        if needs_quote(line, mboxrd) {
            out.write_all(b">")?;
            n += 1;
        }
        out.write_all(line)?;
        out.write_all(eol)?;
        n += (line.len() + eol.len()) as u64;
    }
    // The blank line that separates messages (RFC 4155).
    out.write_all(eol)?;
    Ok(n + eol.len() as u64)
}

/// Writes `msgs` as one mbox file with `From sender asctime` separators.
pub fn write_mbox(path: &Path, msgs: &[Vec<u8>], le: LineEnding, mboxrd: bool) -> io::Result<()> {
    let mut out = BufWriter::new(File::create(path)?);
    for m in msgs {
        write_entry(&mut out, m, le, mboxrd)?;
    }
    out.flush()
}

/// Writes `msgs` as a gzip file of `members` concatenated gzip members (as
/// `cat a.gz b.gz` or log rotation produce); the decompressed stream is one
/// LF mboxo mailbox.
pub fn write_mbox_gz(path: &Path, msgs: &[Vec<u8>], members: usize) -> io::Result<()> {
    let mut out = BufWriter::new(File::create(path)?);
    let members = members.max(1);
    let per = msgs.len().div_ceil(members).max(1);
    let mut chunks: Vec<&[Vec<u8>]> = msgs.chunks(per).collect();
    while chunks.len() < members {
        // An empty member is legal gzip and a good edge case for readers.
        chunks.push(&[]);
    }
    for chunk in chunks {
        let mut gz = GzEncoder::new(&mut out, Compression::default());
        for m in chunk {
            write_entry(&mut gz, m, LineEnding::Lf, false)?;
        }
        gz.finish()?;
    }
    out.flush()
}

fn maildir_dirs(dir: &Path) -> io::Result<()> {
    for sub in ["cur", "new", "tmp"] {
        fs::create_dir_all(dir.join(sub))?;
    }
    Ok(())
}

/// Dovecot-style unique name: "1700000000.M123456P4321.mail01,S=1234".
fn maildir_name(msg: &[u8], i: usize) -> String {
    let (_, date) = envelope(msg);
    format!(
        "{}.M{}P{}.mail01,S={}",
        date,
        (i * 7919) % 1_000_000,
        2000 + i % 30_000,
        msg.len()
    )
}

/// Writes a Maildir: inbox messages in `cur` (seen, some replied) with the
/// newest three in `new` (unseen, no info suffix), the Sent folder as the
/// Maildir++ subfolder `.Sent`.
pub fn write_maildir(dir: &Path, msgs: &[Vec<u8>], sent: &[Vec<u8>]) -> io::Result<()> {
    maildir_dirs(dir)?;
    let unseen_from = msgs.len().saturating_sub(3);
    for (i, m) in msgs.iter().enumerate() {
        let name = maildir_name(m, i);
        let path = if i >= unseen_from {
            dir.join("new").join(name)
        } else {
            let flags = if i % 9 == 4 { "RS" } else { "S" };
            dir.join("cur").join(format!("{}:2,{}", name, flags))
        };
        fs::write(path, m)?;
    }
    if !sent.is_empty() {
        let sdir = dir.join(".Sent");
        maildir_dirs(&sdir)?;
        // Maildir++ marks subfolders with an empty "maildirfolder" file.
        fs::write(sdir.join("maildirfolder"), b"")?;
        for (i, m) in sent.iter().enumerate() {
            fs::write(
                sdir.join("cur")
                    .join(format!("{}:2,S", maildir_name(m, i + msgs.len()))),
                m,
            )?;
        }
    }
    Ok(())
}

/// Writes one `NNNN.eml` file per message with CRLF line ends, the way Outlook
/// and Windows mail clients save them.
pub fn write_eml_dir(dir: &Path, msgs: &[Vec<u8>]) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    for (i, m) in msgs.iter().enumerate() {
        let mut crlf = Vec::with_capacity(m.len() + m.len() / 40);
        for &b in m {
            if b == b'\n' {
                crlf.push(b'\r');
            }
            crlf.push(b);
        }
        fs::write(dir.join(format!("{:04}.eml", i + 1)), crlf)?;
    }
    Ok(())
}

/// Bounce-only mbox for decoder benchmarks: `count` bounces of every style
/// (RFC 3464 and plain text, with and without the returned original).
pub fn bounce_mbox(out: &mut impl Write, count: u64, seed: u64) -> io::Result<u64> {
    let mut rng = Rng::new(seed ^ 0x0042_4f55_4e43);
    let mut t = super::days_from_civil(2025, 1, 6) * 86_400;
    let mut written = 0u64;
    for _ in 0..count {
        t += rng.range(5, 600);
        let msg = random_bounce(&mut rng, "tanaka@example.co.jp", t);
        written += write_entry(out, &msg, LineEnding::Lf, false)?;
    }
    Ok(written)
}

/// Large mixed mbox for end-to-end benchmarks: ordinary mails, a quarter with
/// base64 attachments of 20-600 KB, 5 % bounces of mixed styles. Streams to
/// `out` until `target_bytes` are written; returns the number of messages.
pub fn mixed_mbox(out: &mut impl Write, target_bytes: u64, seed: u64) -> io::Result<u64> {
    let mut rng = Rng::new(seed ^ 0x004d_4958_4544);
    let account = "tanaka@example.co.jp";
    let mut written = 0u64;
    let mut count = 0u64;
    let mut t = super::days_from_civil(2025, 1, 6) * 86_400;
    while written < target_bytes {
        t += rng.range(60, 5400);
        let msg = if rng.chance(0.05) {
            random_bounce(&mut rng, account, t)
        } else {
            let att = if rng.chance(0.25) {
                Some(rng.range(20_000, 600_000) as usize)
            } else {
                None
            };
            ordinary_with_attachment(&mut rng, account, t, att)
        };
        written += write_entry(out, &msg, LineEnding::Lf, false)?;
        count += 1;
    }
    Ok(count)
}

/// The seed of the committed `sample-data/`.
pub const SAMPLE_SEED: u64 = 20261103;

/// Writes the committed sample data set into `dir`: every child is one
/// mailbox, so `bouncetrail scan --batch DIR` triages them all.
///
/// - `tanaka.mbox`: hijacked account, inbox only (mboxo, LF)
/// - `tanaka-maildir/`: the same account as Maildir++, spam copies in `.Sent`
/// - `shop-backscatter/`: backscatter victim as a folder of `.eml` files (CRLF)
/// - `yamada-no-originals.mbox.gz`: flood without returned originals, 3-member gzip
/// - `suzuki-clean.mbox`: clean mailbox, mboxrd with CRLF line ends
///
/// Returns the scenarios written, in that order (hijacked, backscatter,
/// no-originals, clean).
pub fn write_sample_data(dir: &Path) -> io::Result<[super::Scenario; 4]> {
    fs::create_dir_all(dir)?;
    let h = super::hijacked(SAMPLE_SEED);
    let b = super::backscatter(SAMPLE_SEED);
    let n = super::no_originals(SAMPLE_SEED);
    let c = super::clean(SAMPLE_SEED);
    write_mbox(&dir.join("tanaka.mbox"), &h.inbox, LineEnding::Lf, false)?;
    write_maildir(&dir.join("tanaka-maildir"), &h.inbox, &h.sent)?;
    write_eml_dir(&dir.join("shop-backscatter"), &b.inbox)?;
    write_mbox_gz(&dir.join("yamada-no-originals.mbox.gz"), &n.inbox, 3)?;
    write_mbox(
        &dir.join("suzuki-clean.mbox"),
        &c.inbox,
        LineEnding::CrLf,
        true,
    )?;
    Ok([h, b, n, c])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> std::path::PathBuf {
        let d =
            std::env::temp_dir().join(format!("bouncetrail-synth-{}-{}", std::process::id(), name));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    const MSG: &[u8] = b"Return-Path: <>\nFrom: MAILER-DAEMON@x\nDate: Wed, 15 Nov 2023 07:13:20 +0900\nMessage-ID: <a@x>\n\nFrom here\n>From there\n>>From everywhere\nFromage\n";

    #[test]
    fn mboxo_quoting() {
        let mut v = Vec::new();
        write_entry(&mut v, MSG, LineEnding::Lf, false).unwrap();
        let s = String::from_utf8(v).unwrap();
        assert!(s.starts_with("From MAILER-DAEMON Tue Nov 14 22:13:20 2023\n"));
        assert!(s.contains("\n>From here\n>From there\n>>From everywhere\nFromage\n\n"));
    }

    #[test]
    fn mboxrd_quoting_and_line_ends() {
        let mut v = Vec::new();
        write_entry(&mut v, MSG, LineEnding::CrLf, true).unwrap();
        let s = String::from_utf8(v).unwrap();
        assert!(
            s.contains("\r\n>From here\r\n>>From there\r\n>>>From everywhere\r\nFromage\r\n\r\n")
        );
        assert!(!s.replace("\r\n", "").contains('\n'));
        let mut v = Vec::new();
        write_entry(&mut v, MSG, LineEnding::Cr, false).unwrap();
        assert!(!v.contains(&b'\n'));
    }

    #[test]
    fn writers_create_layouts() {
        let d = tmp("layouts");
        let msgs = vec![MSG.to_vec(), MSG.to_vec(), MSG.to_vec(), MSG.to_vec()];
        write_maildir(&d.join("md"), &msgs, &msgs[..1]).unwrap();
        assert_eq!(fs::read_dir(d.join("md/cur")).unwrap().count(), 1);
        assert_eq!(fs::read_dir(d.join("md/new")).unwrap().count(), 3);
        assert_eq!(fs::read_dir(d.join("md/.Sent/cur")).unwrap().count(), 1);
        write_eml_dir(&d.join("eml"), &msgs).unwrap();
        assert!(fs::read(d.join("eml/0001.eml"))
            .unwrap()
            .windows(2)
            .any(|w| w == b"\r\n"));
        write_mbox_gz(&d.join("a.mbox.gz"), &msgs, 3).unwrap();
        let mut dec = flate2::read::MultiGzDecoder::new(File::open(d.join("a.mbox.gz")).unwrap());
        let mut s = String::new();
        io::Read::read_to_string(&mut dec, &mut s).unwrap();
        assert_eq!(s.matches("\nFrom MAILER-DAEMON ").count() + 1, 4);
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn mixed_mbox_reaches_target_deterministically() {
        let mut a = Vec::new();
        let n = mixed_mbox(&mut a, 2_000_000, 1).unwrap();
        let mut b = Vec::new();
        mixed_mbox(&mut b, 2_000_000, 1).unwrap();
        assert!(a.len() >= 2_000_000 && n > 3);
        assert_eq!(a, b);
    }
}
