//! Prints the average random draws per patient trajectory of a scenario, by kind: the mix the
//! speed floor (`benches/floor.rs`) reproduces.
//!
//! `cargo run --release --features draw-stats --example draw_mix [scenario] [patients]`

use allseq::stats::{KINDS, Kind, per_patient};

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
    let mut counts = [0; KINDS];
    per_patient(&model, patients, |c| {
        for (total, n) in counts.iter_mut().zip(c) {
            *total += n;
        }
    });
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
