//! Render benchmark: time to build the full two-site Plan (templates rendered, bundled CRDs
//! parsed, objects stamped) for each profile, against a reference in the same run — parsing the
//! bundled Strimzi YAML alone, the floor any render pays. Prints absolute times and the ratio.
//!
//! Run: `cargo bench --bench render`

use amqdr::material::Material;
use amqdr::plan::{Plan, Scope};
use amqdr::profile::Profile;
use amqdr::render;
use amqdr::settings::Settings;
use std::time::{Duration, Instant};

fn time<F: FnMut()>(iterations: u32, mut f: F) -> Duration {
    f(); // warm-up
    let start = Instant::now();
    for _ in 0..iterations {
        f();
    }
    start.elapsed() / iterations
}

fn main() {
    let iterations = std::env::var("AMQDR_BENCH_ITERATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(20);
    println!("{:<8} {:>14} {:>16} {:>8}", "profile", "plan (2 sites)", "reference parse", "ratio");
    for profile in [Profile::Legacy, Profile::Current] {
        let settings = Settings { profile, ..Settings::default() };
        let material = Material::offline(&settings).expect("material");
        let plan_time = time(iterations, || {
            let plan = Plan::build(&settings, &material, Scope::Install).expect("plan");
            assert!(plan.len() > 50);
        });
        let reference = time(iterations, || {
            let n = render::crds(profile).unwrap().len() + render::cluster_roles(profile).unwrap().len();
            assert!(n > 10);
        });
        println!(
            "{:<8} {:>11.2} ms {:>13.2} ms {:>7.2}x",
            profile.as_str(),
            plan_time.as_secs_f64() * 1e3,
            reference.as_secs_f64() * 1e3,
            plan_time.as_secs_f64() / reference.as_secs_f64()
        );
    }
}
