//! Prints the average random draws per patient trajectory of a scenario, by kind: the mix the
//! speed floor (`benches/floor.rs`) reproduces.
//!
//! `cargo run --release --features draw-stats --example draw_mix [scenario] [patients]`

use allseq::engine::{Workspace, simulate};
use allseq::rng::RunKey;
use allseq::stats::{KINDS, Kind, take};

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .unwrap_or_else(|| "scenarios/adult_rr_ball.toml".into());
    let patients: u64 = args
        .next()
        .map_or(100_000, |n| n.parse().expect("patients"));
    let model = allseq::scenario::load(path.as_ref())
        .expect("scenario")
        .model;
    if !cfg!(feature = "draw-stats") {
        eprintln!("build with --features draw-stats");
        std::process::exit(2);
    }
    let run = RunKey::new(model.seed);
    let mut ws = Workspace::new(&model);
    take();
    for p in 0..patients {
        let attrs = ws.attributes(&model, run, p);
        for s in 0..model.strategies.len() {
            simulate(&model, s, run, p, &attrs, &mut ws, &mut ());
        }
    }
    let counts = take();
    let n = (patients * model.strategies.len() as u64) as f64;
    let names = [
        Kind::Uniform,
        Kind::Seed,
        Kind::Restart,
        Kind::Exponential,
        Kind::Weibull,
        Kind::LogNormal,
        Kind::Gamma,
        Kind::Fixed,
        Kind::Cured,
        Kind::HazardRatio,
        Kind::Background,
        Kind::NormalAge,
        Kind::SeedUsed,
        Kind::RestartUsed,
    ];
    assert_eq!(names.len(), KINDS);
    println!(
        "{path}: {patients} patients x {} strategies; draws per trajectory:",
        model.strategies.len()
    );
    for k in names {
        println!(
            "  {:<12} {:.3}",
            format!("{k:?}"),
            counts[k as usize] as f64 / n
        );
    }
}
