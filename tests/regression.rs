//! Regression tests for fixed bugs, named after what broke.

use bouncetrail::synth::{self, Rng};

use crate::util::scan;

/// Found by mutating corpus bounces: a Received line with multi-byte text
/// made the evidence reader slice inside a character and the whole scan
/// panicked. Damaged copies of every generated bounce style must be read
/// with warnings at most, never an internal error.
#[test]
fn damaged_bounces_never_stop_the_scan() {
    let s = synth::hijacked(11);
    let mut rng = Rng::new(5);
    let dir = tempfile::tempdir().unwrap();
    let mbx = dir.path().join("damaged");
    let mut msgs = Vec::new();
    for m in &s.inbox {
        for _ in 0..3 {
            let mut d = m.clone();
            for _ in 0..rng.below(40) {
                if !d.is_empty() {
                    let at = rng.below(d.len() as u64) as usize;
                    d[at] = *rng.pick(&[
                        0u8, b'\n', b'\r', b' ', b':', b'(', b')', b'[', b']', b'<', b'>', b'@',
                        b'=', 0xe3, 0xff, 0x1b,
                    ]);
                }
            }
            if rng.chance(0.5) {
                let keep = rng.below(d.len() as u64 + 1) as usize;
                d.truncate(keep);
            }
            msgs.push(d);
        }
    }
    synth::write_eml_dir(&mbx, &msgs).unwrap();
    let run = scan(dir.path(), &[mbx.to_str().unwrap()]);
    assert!(
        run.code() == 0 || run.code() == 1,
        "exit {}: {}",
        run.code(),
        run.stderr()
    );
    assert!(!run.stderr().contains("internal error"), "{}", run.stderr());
    assert!(run.summary()["totals"]["messages"].as_u64().unwrap() > 0);
}

/// Found by mutating an mbox: a line break inside the first `From ` line
/// made the whole file "not mail", and every message in it was lost. Now the
/// damaged start is reported and the rest is read.
#[test]
fn damaged_first_from_line_loses_only_the_start() {
    let s = synth::hijacked(12);
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.mbox");
    synth::write_mbox(&good, &s.inbox, synth::LineEnding::Lf, false).unwrap();
    let mut bytes = std::fs::read(&good).unwrap();
    // "From sender@exa\nmple ..." : the separator line broken in two.
    let at = bytes.iter().position(|&b| b == b'@').unwrap() + 3;
    bytes.insert(at, b'\n');
    let bad = dir.path().join("bad.mbox");
    std::fs::write(&bad, &bytes).unwrap();
    let run = scan(dir.path(), &[bad.to_str().unwrap()]);
    assert_eq!(run.code(), 1, "{}", run.stderr());
    assert!(
        run.stderr().contains("before the first mbox From_ line"),
        "{}",
        run.stderr()
    );
    let n = run.summary()["totals"]["messages"].as_u64().unwrap();
    assert_eq!(
        n,
        s.inbox.len() as u64 - 1,
        "all but the damaged first message are read"
    );
}

/// The committed `sample-data/` is what the generator writes: a change to
/// the generator must regenerate it (README, "Development").
#[test]
fn sample_data_is_reproducible() {
    let dir = tempfile::tempdir().unwrap();
    synth::write_sample_data(dir.path()).unwrap();
    let committed = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data");
    let list = |root: &std::path::Path| -> Vec<(String, Vec<u8>)> {
        let mut v: Vec<(String, Vec<u8>)> = walkdir::WalkDir::new(root)
            .sort_by_file_name()
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .map(|e| {
                let rel = e.path().strip_prefix(root).unwrap().display().to_string();
                (rel, std::fs::read(e.path()).unwrap())
            })
            .collect();
        v.sort();
        v
    };
    let (want, got) = (list(dir.path()), list(&committed));
    let names = |v: &[(String, Vec<u8>)]| v.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&want), names(&got), "file list differs");
    for ((name, a), (_, b)) in want.iter().zip(&got) {
        assert!(
            a == b,
            "sample-data/{name} differs from the generator's output"
        );
    }
    assert!(want.len() > 100);
}

/// A section banner after the failure (`|---- Message header follows ----|`,
/// `--- Original message follows.`) was read into the diagnostic.
#[test]
fn banner_lines_stay_out_of_the_diagnostic() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/bounce/unseen-tonline-smail.eml"
    );
    let run = scan(dir.path(), &["--no-hash", fixture]);
    let rows = run.timeline();
    assert_eq!(rows.len(), 1, "{}", run.stderr());
    assert_eq!(
        rows[0]["diagnostic"].as_str(),
        Some("552 5.2.2 <karl@example.net> Quota exceeded (mailbox for user is full)")
    );
}
