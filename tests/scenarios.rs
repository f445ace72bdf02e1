//! End-to-end forensics on generated mailboxes with a known truth
//! (`bouncetrail::synth`): every planted bounce found with its recipient,
//! Message-ID and origin IP; decoys and ordinary mail produce no rows;
//! campaigns stay inside the planted window; each mailbox gets its verdict,
//! alone and in a mixed-format batch.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use bouncetrail::date::Timestamp;
use bouncetrail::synth::{self, LineEnding, Scenario};

use crate::util::{bin, scan, Run};

const SEEDS: &[u64] = &[1, 20261103, 77];

type Row = BTreeMap<String, String>;

fn field<'a>(v: &'a serde_json::Value, k: &str) -> &'a str {
    v.get(k).and_then(|x| x.as_str()).unwrap_or("")
}

/// Compares the timeline with the planted rows; returns every mismatch.
fn check_rows(s: &Scenario, run: &Run) -> Vec<String> {
    let mut problems = Vec::new();
    let mut rows = run.timeline();
    for p in &s.planted {
        let pos = rows.iter().position(|r| {
            field(r, "recipient") == p.recipient
                && p.original_message_id
                    .as_deref()
                    .is_none_or(|m| field(r, "original_message_id") == m)
        });
        let Some(pos) = pos else {
            let near: Vec<String> = rows
                .iter()
                .filter(|r| field(r, "recipient") == p.recipient)
                .map(|r| field(r, "original_message_id").to_string())
                .collect();
            problems.push(format!(
                "{} seed: planted {} {} ({}) for {} with Message-ID {:?} not found (rows for it: {near:?})",
                s.name, p.kind, p.style, p.action, p.recipient, p.original_message_id
            ));
            continue;
        };
        let r = rows.remove(pos);
        if let Some(ip) = &p.origin_ip {
            if field(&r, "origin_ip") != ip {
                problems.push(format!(
                    "{}: {} {} for {}: origin_ip {:?}, planted {ip}",
                    s.name,
                    p.kind,
                    p.style,
                    p.recipient,
                    field(&r, "origin_ip")
                ));
            }
        }
        let in_campaign = !field(&r, "campaign").is_empty();
        if in_campaign != p.in_campaign {
            problems.push(format!(
                "{}: {} {} for {}: in campaign {in_campaign}, planted {}",
                s.name, p.kind, p.style, p.recipient, p.in_campaign
            ));
        }
    }
    for r in &rows {
        problems.push(format!(
            "{}: row nobody planted: {} {} for {} (subject {:?})",
            s.name,
            field(r, "kind"),
            field(r, "family"),
            field(r, "recipient"),
            field(r, "bounce_subject")
        ));
    }
    problems
}

/// Campaign first/last seen inside the planted window, in one campaign.
fn check_campaigns(s: &Scenario, campaigns: &[Row]) -> Vec<String> {
    let mine: Vec<&Row> = campaigns.iter().collect();
    if s.window == (0, 0) {
        return if mine.is_empty() {
            Vec::new()
        } else {
            vec![format!(
                "{}: campaigns where none was planted: {mine:?}",
                s.name
            )]
        };
    }
    let (lo, hi) = (Timestamp(s.window.0).iso(), Timestamp(s.window.1).iso());
    let mut problems = Vec::new();
    if mine.len() != 1 {
        problems.push(format!("{}: {} campaigns, planted 1", s.name, mine.len()));
    }
    for c in mine {
        if c["first_seen"] < lo || c["last_seen"] > hi {
            problems.push(format!(
                "{}: campaign {} .. {} outside the planted window {lo} .. {hi}",
                s.name, c["first_seen"], c["last_seen"]
            ));
        }
        if c["verdict"] != s.expected_verdict {
            problems.push(format!("{}: campaign verdict {}", s.name, c["verdict"]));
        }
    }
    problems
}

fn scenarios(seed: u64) -> [Scenario; 4] {
    [
        synth::hijacked(seed),
        synth::backscatter(seed),
        synth::no_originals(seed),
        synth::clean(seed),
    ]
}

/// Each scenario alone as an mbox: rows, campaigns, verdict.
#[test]
fn every_planted_bounce_and_nothing_else() {
    let mut problems = Vec::new();
    let mut cases = 0;
    for &seed in SEEDS {
        for s in scenarios(seed) {
            let dir = tempfile::tempdir().unwrap();
            let mbox = dir.path().join(format!("{}.mbox", s.name));
            synth::write_mbox(&mbox, &s.inbox, LineEnding::Lf, false).unwrap();
            let run = scan(dir.path(), &[mbox.to_str().unwrap()]);
            assert_eq!(run.code(), 0, "{}", run.stderr());
            cases += s.planted.len();
            problems.extend(
                check_rows(&s, &run)
                    .into_iter()
                    .map(|p| format!("seed {seed}: {p}")),
            );
            let campaigns = run.csv("campaigns.csv");
            problems.extend(
                check_campaigns(&s, &campaigns)
                    .into_iter()
                    .map(|p| format!("seed {seed}: {p}")),
            );
            let mailboxes = run.csv("mailboxes.csv");
            if mailboxes[0]["verdict"] != s.expected_verdict {
                problems.push(format!(
                    "seed {seed}: {}: verdict {} ({}), expected {}",
                    s.name, mailboxes[0]["verdict"], mailboxes[0]["evidence"], s.expected_verdict
                ));
            }
            if mailboxes[0]["account"] != s.account {
                problems.push(format!(
                    "seed {seed}: {}: account {:?} inferred from {}, expected {}",
                    s.name, mailboxes[0]["account"], mailboxes[0]["account_source"], s.account
                ));
            }
        }
    }
    println!("{cases} planted rows checked");
    assert!(cases > 0);
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// The hijacked verdict names its evidence, and the Sent folder confirms it.
#[test]
fn hijack_evidence_sentence_and_iocs() {
    let s = synth::hijacked(SEEDS[1]);
    let dir = tempfile::tempdir().unwrap();
    let md = dir.path().join("tanaka");
    synth::write_maildir(&md, &s.inbox, &s.sent).unwrap();
    let run = scan(dir.path(), &[md.to_str().unwrap()]);
    let m = &run.csv("mailboxes.csv")[0];
    assert_eq!(m["verdict"], "compromised");
    for want in ["ESMTPSA", "DKIM d=example.co.jp", "Sent folder"] {
        assert!(m["evidence"].contains(want), "{want} in {}", m["evidence"]);
    }
    let lo: u64 = m["estimated_sent_min"].parse().unwrap();
    let hi: u64 = m["estimated_sent_max"].parse().unwrap();
    let recipients: u64 = m["recipients"].parse().unwrap();
    assert!(recipients >= 40 && recipients <= lo && lo < hi, "{m:?}");
    let summary = run.summary();
    assert_eq!(summary["next_steps"].as_array().map(|a| a.len()), Some(4));
    assert!(summary["scale_assumption"]
        .as_str()
        .unwrap()
        .contains("bounce rate"));
    // Every planted origin IP of the campaign is an indicator, and no other.
    let iocs = run.csv("iocs.csv");
    let got: std::collections::BTreeSet<&str> = iocs
        .iter()
        .filter(|r| r["type"] == "origin-ip")
        .map(|r| r["value"].as_str())
        .collect();
    let planted: std::collections::BTreeSet<&str> = s
        .planted
        .iter()
        .filter(|p| p.in_campaign)
        .filter_map(|p| p.origin_ip.as_deref())
        .collect();
    assert_eq!(got, planted);
    assert!(iocs
        .iter()
        .any(|r| r["type"] == "auth-user" && r["value"] == "tanaka@example.co.jp"));
}

fn run_batch(root: &Path, out: &Path) -> std::process::Output {
    Command::new(bin())
        .args(["scan", "--batch", "--no-hash", "--out"])
        .arg(out)
        .arg(root)
        .output()
        .unwrap()
}

/// A batch folder mixing the scenarios in four formats: each mailbox its
/// verdict, compromised first, the counts on stdout, the same bytes twice.
#[test]
fn batch_of_mixed_formats() {
    let seed = SEEDS[0];
    let [h, b, n, c] = scenarios(seed);
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("exports");
    std::fs::create_dir_all(&root).unwrap();
    // Names sort so that the compromised mailbox is not first on disk.
    synth::write_mbox(&root.join("a-clean.mbox"), &c.inbox, LineEnding::CrLf, true).unwrap();
    synth::write_eml_dir(&root.join("b-backscatter"), &b.inbox).unwrap();
    synth::write_mbox_gz(&root.join("c-no-originals.mbox.gz"), &n.inbox, 3).unwrap();
    synth::write_maildir(&root.join("d-hijacked"), &h.inbox, &h.sent).unwrap();
    let out = dir.path().join("out");
    let o = run_batch(&root, &out);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        stdout.contains("verdicts: 1 compromised, 1 backscatter, 1 inconclusive, 1 clean"),
        "{stdout}"
    );
    assert!(stdout.contains("what to do next"), "{stdout}");
    let run = Run {
        out: out.clone(),
        output: o,
    };
    let got: Vec<(String, String)> = run
        .csv("mailboxes.csv")
        .into_iter()
        .map(|m| {
            let name = m["mailbox"].rsplit('/').next().unwrap_or("").to_string();
            (name, m["verdict"].clone())
        })
        .collect();
    let want: Vec<(String, String)> = [
        ("d-hijacked", "compromised"),
        ("b-backscatter", "backscatter"),
        ("c-no-originals.mbox.gz", "inconclusive"),
        ("a-clean.mbox", "clean"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(got, want);
    // Deterministic: a second run writes the same bytes.
    let out2 = dir.path().join("out2");
    run_batch(&root, &out2);
    for f in ["timeline.csv", "campaigns.csv", "mailboxes.csv", "iocs.csv"] {
        let a = std::fs::read(out.join(f)).unwrap();
        let b = std::fs::read(out2.join(f)).unwrap();
        assert!(a == b, "{f} differs between two runs");
    }
}
