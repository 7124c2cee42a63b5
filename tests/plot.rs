//! Chart rendering: PNGs are real, non-blank images of the promised size, SVGs carry
//! every text, and awkward inputs (NaN, empty panels, long labels, huge numbers) render
//! without panicking.
//!
//! Set `VIA_EVAL_CHART_SAMPLES=/some/dir` to also write the sample charts there, for
//! looking at them after a change to the layout.

use via_eval::plot::{
    ArmChart, ArmGroup, ArmPoint, Better, EffectChart, EffectPanel, EffectRow, Lang, PowerChart,
    arm_chart_png, arm_chart_svg, effect_chart_png, effect_chart_svg, power_chart_png,
    power_chart_svg, register_fonts,
};

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

fn row(label: &str, estimate: f64, ci_low: f64, ci_high: f64, emphasis: bool) -> EffectRow {
    EffectRow {
        label: label.to_string(),
        estimate,
        ci_low,
        ci_high,
        emphasis,
        suppressed: false,
    }
}

fn panel(title: &str, axis_label: &str, better: Better, rows: Vec<EffectRow>) -> EffectPanel {
    EffectPanel {
        title: title.to_string(),
        axis_label: axis_label.to_string(),
        better,
        rows,
    }
}

fn effect_sample() -> EffectChart {
    EffectChart {
        title: "Effect of the VIA work-first approach".to_string(),
        subtitle: "Estimate with 95% confidence interval; adjusted for covariates".to_string(),
        panels: vec![
            panel(
                "Paid work at 12 months (primary)",
                "Difference in percentage points",
                Better::Higher,
                vec![
                    row("Participants vs comparison — pooled", 8.4, 3.1, 13.7, true),
                    row(
                        "Participants vs comparison — Gemeente Utrecht",
                        11.2,
                        2.5,
                        19.9,
                        false,
                    ),
                    row(
                        "Participants vs comparison — Gemeente Tilburg",
                        5.1,
                        -3.8,
                        14.0,
                        false,
                    ),
                    row(
                        "Participants vs comparison — Gemeente Groningen",
                        9.0,
                        -0.4,
                        18.4,
                        false,
                    ),
                ],
            ),
            panel(
                "Monthly earnings from work (secondary)",
                "Difference in euros per month",
                Better::Higher,
                vec![
                    row(
                        "Participants vs comparison — pooled",
                        142.0,
                        -35.0,
                        319.0,
                        true,
                    ),
                    row(
                        "Participants vs comparison — Gemeente Utrecht",
                        201.0,
                        -60.0,
                        462.0,
                        false,
                    ),
                ],
            ),
            panel(
                "Months on social assistance (secondary)",
                "Difference in months",
                Better::Lower,
                vec![row(
                    "Participants vs comparison — pooled",
                    -1.3,
                    -2.4,
                    -0.2,
                    true,
                )],
            ),
            panel(
                "Hours worked per week (secondary)",
                "Difference in hours",
                Better::Neither,
                vec![row(
                    "Participants vs comparison — pooled",
                    0.8,
                    -1.9,
                    3.5,
                    true,
                )],
            ),
        ],
        note: "Synthetic data. Source: via-eval simulate.".to_string(),
        better_label: ("better".to_string(), "worse".to_string()),
        lang: Lang::En,
    }
}

fn arm_point(label: &str, mean: f64, ci_low: f64, ci_high: f64, n: usize) -> ArmPoint {
    ArmPoint {
        label: label.to_string(),
        mean,
        ci_low,
        ci_high,
        n: Some(n),
        suppressed: false,
    }
}

fn arm_sample() -> ArmChart {
    ArmChart {
        title: "Paid work at 12 months by group".to_string(),
        subtitle: "Share per group with 95% confidence interval".to_string(),
        axis_label: "Share with paid work (%)".to_string(),
        groups: vec![
            ArmGroup {
                title: "Pooled".to_string(),
                points: vec![
                    arm_point("Participants", 41.3, 36.1, 46.6, 312),
                    arm_point("Comparison", 32.9, 27.8, 38.3, 298),
                ],
            },
            ArmGroup {
                title: "Liander".to_string(),
                points: vec![
                    arm_point("Participants", 44.8, 34.4, 55.7, 87),
                    arm_point("Comparison", 30.1, 20.9, 41.0, 83),
                ],
            },
        ],
        note: "Synthetic data".to_string(),
        lang: Lang::En,
    }
}

/// Writes a sample to `$VIA_EVAL_CHART_SAMPLES/<name>` when that variable is set.
fn keep(name: &str, bytes: &[u8]) {
    if let Some(dir) = std::env::var_os("VIA_EVAL_CHART_SAMPLES") {
        let dir = std::path::PathBuf::from(dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

/// Decodes a PNG and checks its width and that something was drawn: dark pixels
/// (text, zero line) and blue-ish pixels (the estimates, Okabe-Ito blue #0072B2).
fn check_png(png: &[u8]) -> image::RgbImage {
    assert!(png.starts_with(PNG_SIGNATURE), "not a PNG");
    let img = image::load_from_memory(png).expect("PNG decodes").to_rgb8();
    assert_eq!(img.width(), 1000);
    assert!(img.height() > 200, "height {}", img.height());
    let dark = img.pixels().filter(|p| p.0.iter().all(|&c| c < 80)).count();
    assert!(dark > 1000, "only {dark} dark pixels: is the text drawn?");
    img
}

fn count_blue(img: &image::RgbImage) -> usize {
    img.pixels()
        .filter(|p| {
            let [r, g, b] = p.0;
            b > 150 && r < 60 && g > 80 && g < 150
        })
        .count()
}

/// All drawn texts of an SVG, joined by spaces, so a label wrapped over several lines
/// still reads as the original label.
fn svg_text(svg: &str) -> String {
    let mut out = Vec::new();
    for part in svg.split("<text").skip(1) {
        let body = &part[part.find('>').unwrap() + 1..part.find("</text>").unwrap()];
        out.push(
            body.trim()
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&apos;", "'")
                .replace("&amp;", "&"),
        );
    }
    out.join(" ")
}

/// Cheap well-formedness checks; the full XML parse was done by hand when the layout
/// was built.
fn check_svg(svg: &str) {
    assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(80)]);
    assert!(svg.trim_end().ends_with("</svg>"));
    assert_eq!(svg.matches("<text").count(), svg.matches("</text>").count());
    assert!(svg.contains("font-family=\"DejaVu Sans, Verdana, sans-serif\""));
}

#[test]
fn effect_chart_png_is_a_nonblank_image() {
    let c = effect_sample();
    let png = effect_chart_png(&c).unwrap();
    keep("effect.png", &png);
    let img = check_png(&png);
    assert!(count_blue(&img) > 500, "estimates not drawn");
}

#[test]
fn effect_chart_svg_has_all_texts() {
    let c = effect_sample();
    let svg = effect_chart_svg(&c).unwrap();
    keep("effect.svg", svg.as_bytes());
    check_svg(&svg);
    assert!(svg.contains(&format!("<title>{}</title>", c.title)));
    let svg = svg_text(&svg);
    assert!(svg.contains(&c.title));
    assert!(svg.contains(&c.subtitle));
    assert!(svg.contains(&c.note[..14]));
    for p in &c.panels {
        assert!(svg.contains(&p.title), "{}", p.title);
        assert!(svg.contains(&p.axis_label), "{}", p.axis_label);
        for r in &p.rows {
            assert!(svg.contains(&r.label), "{}", r.label);
        }
    }
    assert!(svg.contains("better →"));
    assert!(svg.contains("← worse"));
    // Lower is better: the hint flips sides.
    assert!(svg.contains("← better"));
    assert!(svg.contains("worse →"));
}

#[test]
fn arm_chart_png_and_svg() {
    let c = arm_sample();
    let png = arm_chart_png(&c).unwrap();
    keep("arms.png", &png);
    let img = check_png(&png);
    assert!(count_blue(&img) > 500, "bars not drawn");
    let svg = arm_chart_svg(&c).unwrap();
    keep("arms.svg", svg.as_bytes());
    check_svg(&svg);
    for text in [
        &c.title,
        &c.subtitle,
        &c.axis_label,
        &c.note,
        "Pooled",
        "Liander",
    ] {
        assert!(svg.contains(text), "{text}");
    }
    // n is glued to its label with no-break spaces so it never wraps apart.
    assert!(svg.contains("Participants (n\u{a0}=\u{a0}87)"));
    assert!(svg.contains("Comparison (n\u{a0}=\u{a0}298)"));
}

#[test]
fn nan_rows_and_empty_panels_render() {
    let mut c = effect_sample();
    c.panels[0].rows[1].estimate = f64::NAN;
    c.panels[0].rows[2].ci_low = f64::NEG_INFINITY;
    c.panels[1].rows = vec![row(
        "Participants vs comparison — pooled",
        f64::NAN,
        f64::NAN,
        f64::NAN,
        true,
    )];
    c.panels
        .push(panel("Empty outcome", "Difference", Better::Higher, vec![]));
    let png = effect_chart_png(&c).unwrap();
    keep("effect-nan.png", &png);
    check_png(&png);
    let svg = effect_chart_svg(&c).unwrap();
    check_svg(&svg);
    let svg = svg_text(&svg);
    assert!(svg.contains(&c.panels[0].rows[1].label));
    assert!(svg.matches("not estimable").count() >= 2);
    assert!(svg.contains("Empty outcome"));
    assert!(svg.contains("no estimates available"));

    let mut a = arm_sample();
    a.groups[1].points[0].mean = f64::NAN;
    a.groups.push(ArmGroup {
        title: "Empty group".to_string(),
        points: vec![],
    });
    let svg = arm_chart_svg(&a).unwrap();
    assert!(svg.contains("not estimable"));
    check_png(&arm_chart_png(&a).unwrap());
}

#[test]
fn withheld_values_read_suppressed_not_not_estimable() {
    // Issue 12/18: a reader must not take disclosure control for a failed statistic.
    let mut c = effect_sample();
    c.panels[0].rows[0] = EffectRow {
        suppressed: true,
        ..row("Withheld row", f64::NAN, f64::NAN, f64::NAN, false)
    };
    let svg = svg_text(&effect_chart_svg(&c).unwrap());
    assert!(svg.contains("suppressed"), "{svg}");
    assert!(!svg.contains("not estimable"), "{svg}");
    let mut a = arm_sample();
    a.groups[0].points[0].mean = f64::NAN;
    a.groups[0].points[0].suppressed = true;
    let svg = svg_text(&arm_chart_svg(&a).unwrap());
    assert!(
        svg.contains("suppressed") && !svg.contains("not estimable"),
        "{svg}"
    );
    a.lang = Lang::Nl;
    let svg = svg_text(&arm_chart_svg(&a).unwrap());
    assert!(svg.contains("onderdrukt"), "{svg}");
}

#[test]
fn degenerate_charts_render() {
    let empty = EffectChart {
        panels: vec![],
        ..effect_sample()
    };
    check_svg(&effect_chart_svg(&empty).unwrap());
    assert!(effect_chart_png(&empty).unwrap().starts_with(PNG_SIGNATURE));

    let all_nan = EffectChart {
        panels: vec![panel(
            "Only NaN",
            "Difference",
            Better::Lower,
            vec![row("a", f64::NAN, f64::INFINITY, f64::NAN, false)],
        )],
        ..effect_sample()
    };
    check_svg(&effect_chart_svg(&all_nan).unwrap());

    let huge = EffectChart {
        panels: vec![panel(
            "Huge",
            "Difference",
            Better::Higher,
            vec![
                row("a", 1e300, -1e308, 1.7e308, false),
                row("b", 0.0, 0.0, 0.0, false),
            ],
        )],
        ..effect_sample()
    };
    check_svg(&effect_chart_svg(&huge).unwrap());
    effect_chart_png(&huge).unwrap();

    let no_groups = ArmChart {
        groups: vec![],
        ..arm_sample()
    };
    check_svg(&arm_chart_svg(&no_groups).unwrap());
    arm_chart_png(&no_groups).unwrap();
}

#[test]
fn long_labels_are_wrapped_or_cut() {
    let long = "Participants who started the language-and-work trajectory within six weeks \
                of arrival versus the regular municipal route — all municipalities pooled \
                over the full pilot period including late entrants and transfers";
    let mut c = effect_sample();
    c.title = format!(
        "{} {}",
        c.title,
        "with a deliberately very long title ".repeat(3)
    );
    c.panels[0].rows[0].label = long.to_string();
    let svg = effect_chart_svg(&c).unwrap();
    check_svg(&svg);
    assert!(
        svg.contains('…'),
        "an over-long label should be cut with an ellipsis"
    );
    let png = effect_chart_png(&c).unwrap();
    keep("effect-long.png", &png);
    check_png(&png);
}

#[test]
fn dutch_charts_use_dutch_words_and_numbers() {
    let mut c = effect_sample();
    c.lang = Lang::Nl;
    c.better_label = ("beter".to_string(), "slechter".to_string());
    c.panels[0].rows[1].estimate = f64::NAN;
    // A narrow range forces decimal ticks.
    c.panels[3].rows[0] = row("Deelnemers vs vergelijking", 0.3, -0.15, 0.45, true);
    let svg = effect_chart_svg(&c).unwrap();
    assert!(svg.contains("niet te schatten"));
    assert!(svg.contains("beter →"));
    assert!(svg.contains(">\n0,2\n<") || svg.contains(">\n0,25\n<") || svg.contains(">\n0,1\n<"));
    keep("effect-nl.png", &effect_chart_png(&c).unwrap());

    let mut a = arm_sample();
    a.lang = Lang::Nl;
    a.groups[0].points[0].n = Some(12_345);
    let svg = arm_chart_svg(&a).unwrap();
    assert!(svg.contains("(n\u{a0}=\u{a0}12.345)"));
}

#[test]
fn register_fonts_is_idempotent() {
    register_fonts();
    register_fonts();
    let png = effect_chart_png(&effect_sample()).unwrap();
    assert!(png.starts_with(PNG_SIGNATURE));
}

/// A power curve as the command passes it: points, the result and the target, texts
/// in the chart's language.
fn power_sample(lang: Lang) -> PowerChart {
    let nl = lang == Lang::Nl;
    PowerChart {
        title: if nl {
            "Onderscheidend vermogen naar steekproefomvang"
        } else {
            "Power by sample size"
        }
        .into(),
        subtitle: "d = 0,25".into(),
        x_label: if nl {
            "Totaal aantal personen"
        } else {
            "Total persons"
        }
        .into(),
        y_label: if nl {
            "Onderscheidend vermogen"
        } else {
            "Power"
        }
        .into(),
        curve: (0..=60)
            .map(|i| {
                let n = 50.0 + 25.0 * f64::from(i);
                (n, 1.0 - (-n / 350.0).exp())
            })
            .collect(),
        marker: (563.0, 0.8),
        target: Some(0.8),
        note: "Synthetic".into(),
        lang,
    }
}

#[test]
fn power_chart_png_and_svg_in_both_languages() {
    for lang in [Lang::Nl, Lang::En] {
        let c = power_sample(lang);
        let png = power_chart_png(&c).unwrap();
        keep(&format!("power-{lang:?}.png"), &png);
        let img = check_png(&png);
        assert!(count_blue(&img) > 500, "curve not drawn");
        let svg = power_chart_svg(&c).unwrap();
        check_svg(&svg);
        let text = svg_text(&svg);
        for t in [&c.title, &c.x_label, &c.y_label, "80%", "100%"] {
            assert!(text.contains(t), "{lang:?}: {t} missing in {text}");
        }
        // Thousands grouped as the language writes them.
        let sep = if lang == Lang::Nl { "1.000" } else { "1,000" };
        assert!(text.contains(sep), "{lang:?}: {text}");
    }
    // A curve with a NaN point and no target still renders.
    let mut c = power_sample(Lang::En);
    c.curve[3].1 = f64::NAN;
    c.target = None;
    check_png(&power_chart_png(&c).unwrap());
}
