#![allow(dead_code)] // shared by test modules; not every module uses every helper
//! Helpers: run `bouncetrail` on inputs in a temporary folder and read what it wrote.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The compiled binary under test.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_bouncetrail"))
}

/// The result of one run.
pub struct Run {
    pub out: PathBuf,
    pub output: Output,
}

impl Run {
    pub fn code(&self) -> i32 {
        self.output.status.code().unwrap_or(-1)
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }
    pub fn file(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.out.join(name))
            .unwrap_or_else(|e| panic!("{name}: {e}\nstderr:\n{}", self.stderr()))
    }
    /// timeline.jsonl as JSON values.
    pub fn timeline(&self) -> Vec<serde_json::Value> {
        String::from_utf8(self.file("timeline.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
    /// A CSV file as header-keyed rows.
    pub fn csv(&self, name: &str) -> Vec<std::collections::BTreeMap<String, String>> {
        let data = self.file(name);
        let mut r = csv::Reader::from_reader(&data[..]);
        let headers = r.headers().unwrap().clone();
        r.records()
            .map(|rec| {
                headers
                    .iter()
                    .zip(rec.unwrap().iter())
                    .map(|(h, v)| (h.to_string(), v.to_string()))
                    .collect()
            })
            .collect()
    }
    pub fn summary(&self) -> serde_json::Value {
        serde_json::from_slice(&self.file("summary.json")).unwrap()
    }
}

/// Runs `bouncetrail scan ARGS... --out <tmp>/out`.
pub fn scan(dir: &Path, args: &[&str]) -> Run {
    scan_in(dir, None, args)
}

/// Like `scan`, with the working directory set (relative INPUT paths).
pub fn scan_in(dir: &Path, cwd: Option<&Path>, args: &[&str]) -> Run {
    let out = dir.join("out");
    let mut cmd = Command::new(bin());
    if let Some(c) = cwd {
        cmd.current_dir(c);
    }
    let output = cmd
        .arg("scan")
        .arg("--quiet")
        .arg("--out")
        .arg(&out)
        .args(args)
        .output()
        .expect("run bouncetrail");
    Run { out, output }
}

/// Shows expected and actual side by side when they differ.
#[track_caller]
pub fn assert_same(what: &str, expected: &str, got: &str) {
    if expected != got {
        panic!("{what} differs\n--- expected\n{expected}\n--- got\n{got}\n");
    }
}
