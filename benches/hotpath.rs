//! Micro-benchmarks of the per-message hot path, on input made here:
//! mbox splitting, triage of a header block, and the RFC 3464 decoder.
//! `cargo bench` (criterion). End-to-end figures are in BENCHMARKS.md.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

use bouncetrail::bounce;
use bouncetrail::mailbox::mbox;
use bouncetrail::message::RawMessage;
use bouncetrail::parse;
use bouncetrail::synth;
use bouncetrail::triage::{self, Triage};

/// A mixed mbox of about `mb` MiB from the project's generator.
fn mixed(mb: u64) -> Vec<u8> {
    let mut out = Vec::new();
    synth::mixed_mbox(&mut out, mb << 20, 42).expect("generate");
    out
}

fn split(c: &mut Criterion) {
    let hay = mixed(32);
    let mut g = c.benchmark_group("split");
    g.throughput(Throughput::Bytes(hay.len() as u64));
    g.bench_function("separators+ranges", |b| {
        b.iter(|| {
            let mut seps = Vec::new();
            mbox::separators_in(&hay, 0..hay.len(), &mut seps);
            mbox::message_ranges(&hay, &seps).len()
        })
    });
    g.finish();
}

fn triage_bench(c: &mut Criterion) {
    let s = synth::hijacked(1);
    let mut g = c.benchmark_group("triage");
    g.throughput(Throughput::Elements(s.inbox.len() as u64));
    g.bench_function(BenchmarkId::new("messages", s.inbox.len()), |b| {
        b.iter(|| {
            s.inbox
                .iter()
                .enumerate()
                .filter(|(i, m)| {
                    let raw = RawMessage {
                        bytes: m,
                        offset: 0,
                        index: *i as u64,
                    };
                    !matches!(triage::triage(&raw).0, Triage::Ordinary)
                })
                .count()
        })
    });
    g.finish();
}

fn decode(c: &mut Criterion) {
    // Only the bounces of the scenario, each parsed and decoded.
    let s = synth::hijacked(1);
    let bounces: Vec<(Vec<u8>, triage::Hints)> = s
        .inbox
        .iter()
        .filter_map(|m| {
            match triage::triage(&RawMessage {
                bytes: m,
                offset: 0,
                index: 0,
            })
            .0
            {
                Triage::BounceLike(h) => Some((m.clone(), h)),
                _ => None,
            }
        })
        .collect();
    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Elements(bounces.len() as u64));
    g.bench_function(BenchmarkId::new("parse+detect", bounces.len()), |b| {
        b.iter(|| {
            bounces
                .iter()
                .filter(|(m, h)| bounce::detect(&parse::parse(m), *h).is_some())
                .count()
        })
    });
    g.finish();
}

criterion_group!(benches, split, triage_bench, decode);
criterion_main!(benches);
