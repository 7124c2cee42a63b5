//! One t quantile at df = 3·10^7, timed (issue 19). `cargo run --example
//! t_quantile_timing` times via-eval's; with the argument `statrs` it times statrs'
//! own inverse, the path two_sided_quantile took before issue 19 (minutes).
use statrs::distribution::{ContinuousCDF, StudentsT};
use std::time::Instant;

fn main() {
    let df = 3e7;
    let start = Instant::now();
    let q = if std::env::args().any(|a| a == "statrs") {
        StudentsT::new(0.0, 1.0, df).map_or(f64::NAN, |t| t.inverse_cdf(0.975))
    } else {
        via_eval::stats::dist::two_sided_quantile(0.95, Some(df))
    };
    println!("q = {q:.17}, {:?}", start.elapsed());
}
