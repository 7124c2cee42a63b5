//! Issue 17 item 4: the minimum detectable effect beside each headline estimate, and
//! the plain statement when a pilot could not have detected the effect found elsewhere.

use via_eval::analysis::{self, Options, Privacy, Scale, Threshold};
use via_eval::config;
use via_eval::stats::power::mde_from_se;

mod common;
use common::{assert_close, root};

#[test]
fn headline_estimates_carry_their_minimum_detectable_effect() {
    let spec = config::load_slug(&root().join("pilots"), "leren-en-werken").unwrap();
    let data = root().join("notebooks-data");
    let input = via_eval::prepare::load(&spec, &data, &Default::default())
        .unwrap()
        .input;
    let opts = Options::default();
    let r = analysis::run(&spec, &input, &opts, Privacy::Control(Threshold::default())).unwrap();
    let mut checked = 0;
    for e in &r.estimates {
        match (e.headline, e.scale, e.suppressed) {
            (true, Scale::Difference, false) => {
                let want =
                    mde_from_se(e.std_error, e.df, 1.0 - opts.conf_level, 0.8, true).unwrap();
                assert_close("mde", e.mde.unwrap(), want);
                // At 80% power and 5% two-sided it is about 2.8 standard errors.
                let ratio = e.mde.unwrap() / e.std_error;
                assert!((2.7..3.2).contains(&ratio), "{ratio}");
                checked += 1;
            }
            // Withheld rows publish no MDE (it would reveal the standard error).
            (_, _, true) => assert!(e.mde.is_none_or(f64::is_nan)),
            _ => assert!(e.mde.is_none(), "{} {}", e.outcome, e.estimator),
        }
    }
    assert!(checked >= 10, "{checked}");
    // work_12m declares plausible_effect = 0.02, well below what 214 participants can
    // detect: the report says so, in both languages.
    let note = r
        .notes
        .iter()
        .find(|n| n.outcome.as_deref() == Some("work_12m") && n.text.en.contains("80% power"))
        .expect("a note on the detectable effect");
    assert!(note.text.en.contains("would probably have been missed"));
    assert!(note.text.nl.contains("waarschijnlijk gemist"));
}

#[test]
fn a_plausible_effect_must_be_a_number_other_than_zero() {
    let text = std::fs::read_to_string(root().join("pilots/leren-en-werken.toml"))
        .unwrap()
        .replace("plausible_effect = 0.02", "plausible_effect = 0");
    let e = via_eval::config::PilotSpec::from_toml(
        &text,
        std::path::Path::new("pilots/leren-en-werken.toml"),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("plausible_effect"), "{e}");
}
