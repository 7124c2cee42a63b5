//! Issue 18 item 7: `via-eval pilot --all --out DIR` also writes DIR/index.html and
//! index.md, the pilots on one page with their design, whether it supports a causal
//! claim, the primary outcome's effect and a link to each report.

mod common;
use common::{root, run_in, show};

#[test]
fn all_pilots_write_an_overview_that_links_every_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let pilots = root().join("pilots");
    let data = root().join("notebooks-data");
    let args = [
        "pilot",
        "--all",
        "--pilots",
        pilots.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--lang",
        "nl",
        "-q",
        "-o",
        out.to_str().unwrap(),
    ];
    let o = run_in(dir.path(), &args);
    assert!(o.status.success(), "{}", show(&args, &o));
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    let md = std::fs::read_to_string(out.join("index.md")).unwrap();
    assert!(out.join("overview.png").is_file() && out.join("overview.svg").is_file());
    let slugs: Vec<String> = via_eval::config::discover(&pilots)
        .unwrap()
        .iter()
        .map(|p| p.file_stem().unwrap().to_str().unwrap().to_string())
        .collect();
    assert_eq!(slugs.len(), 8);
    for slug in &slugs {
        let spec = via_eval::config::load_slug(&pilots, slug).unwrap();
        // Linked, and the link leads to the report.
        assert!(
            html.contains(&format!("href=\"{slug}/report.html\"")),
            "{slug}"
        );
        assert!(md.contains(&format!("({slug}/report.md)")), "{slug}");
        assert!(out.join(slug).join("report.html").is_file());
        assert!(md.contains(&spec.title.nl), "{slug}");
        // Honest about the design: the row of a randomised pilot says lottery, that of a
        // before/after pilot says no.
        let row = md
            .lines()
            .find(|l| l.starts_with(&format!("| {} |", spec.title.nl)))
            .unwrap_or_else(|| panic!("no row for {slug}"));
        let want = if spec.design.kind.is_randomised() {
            "ja (loting)"
        } else if spec.design.kind == via_eval::config::DesignKind::BeforeAfter {
            "nee (voor/na"
        } else {
            "beperkt"
        };
        assert!(row.contains(want), "{slug}: {row}");
    }
    assert!(md.contains("SYNTHETISCHE"));
    // Self-contained: the chart is inline.
    assert!(html.contains("data:image/png;base64,"));
    // A second run replaces its own overview.
    let o = run_in(dir.path(), &args);
    assert!(o.status.success(), "{}", show(&args, &o));
}

#[test]
fn an_index_html_of_the_user_is_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("index.html"), "<p>mine</p>").unwrap();
    let pilots = root().join("pilots");
    let data = root().join("notebooks-data");
    let args = [
        "pilot",
        "--all",
        "--pilots",
        pilots.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "-q",
        "-o",
        out.to_str().unwrap(),
    ];
    let o = run_in(dir.path(), &args);
    assert!(!o.status.success(), "{}", show(&args, &o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("index.html") && err.contains("not written by via-eval"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("index.html")).unwrap(),
        "<p>mine</p>"
    );
}
