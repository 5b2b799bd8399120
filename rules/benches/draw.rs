//! `cargo bench -p qingling-rules --bench draw [-- FACILITIES INSPECTORS RUNS]`: the draw over a
//! synthetic campaign (100,000 homes × 10,000 inspectors by default) beside a bare Fisher–Yates
//! shuffle of the same homes, in a release build of the rules alone (`qingling bench draw` runs
//! the same inside the whole binary).

// A benchmark reads the clock and prints; the determinism fence (clippy.toml) is for the rules
// themselves, which this only calls.
#![allow(clippy::disallowed_methods, clippy::disallowed_macros)]

use qingling_rules::draw::{draw, synthetic};
use std::time::Instant;

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let (facilities, inspectors, runs) =
        (args.first().copied().unwrap_or(100_000), args.get(1).copied().unwrap_or(10_000), args.get(2).copied().unwrap_or(20).max(1));
    let c = synthetic::campaign(facilities, inspectors);
    let (mut drawing, mut shuffling) = (vec![], vec![]);
    let mut targets = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let d = draw(&c.key, &c.plan, &c.targets, &c.inspectors, &c.conflicts).expect("the synthetic campaign draws");
        drawing.push(t.elapsed().as_secs_f64() * 1000.0);
        targets = d.targets.len();
        let t = Instant::now();
        std::hint::black_box(synthetic::shuffle(&c.targets));
        shuffling.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let (d, s) = (synthetic::median(&drawing), synthetic::median(&shuffling));
    println!("draw: {facilities} facilities × {inspectors} inspectors → {targets} targets with teams; {runs} runs");
    println!("draw p50 {d:.2} ms, Fisher-Yates shuffle p50 {s:.3} ms, ratio {:.1}×", d / s.max(1e-9));
}
