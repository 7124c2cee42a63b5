//! Real-world input files: the same 40 rows written as a Dutch Excel CSV (';', decimal
//! commas, CRLF, BOM), tab-separated, Latin-1, UTF-16, with text yes/no values and
//! missing-value markers, and as an Excel workbook, must all load to the same values and
//! give the same results, with what was detected said on stderr.

mod common;

use common::{MINI_CONFIG as CONFIG, pilot_dir, root, run_in, show};
use std::fs;
use std::path::{Path, PathBuf};
use via_eval::config::ReadOptions;
use via_eval::data::Frame;

/// The rows of `scripts/fixtures/make_input_fixtures.py`:
/// (pid, arm, age, work, income).
fn rows() -> Vec<(String, &'static str, u32, bool, f64)> {
    (0..40)
        .map(|i| {
            let arm = if i % 2 == 0 { "treated" } else { "control" };
            let work = (i * 7) % 3 == 0;
            let income =
                1000.0 + (i as f64 * 37.0) % 200.0 + if i % 2 == 0 { 50.0 } else { 0.0 } + 0.25;
            (format!("P{i:03}"), arm, 20 + i % 30, work, income)
        })
        .collect()
}

/// A plain comma-separated file with a decimal point, 1/0 and empty cells: the reference.
fn plain_csv() -> String {
    let mut s = String::from("pid,arm,age,work,income\n");
    for (pid, arm, age, work, income) in rows() {
        s.push_str(&format!("{pid},{arm},{age},{},{income}\n", u8::from(work)));
    }
    s
}

/// The same rows as Dutch Excel writes them: BOM, ';', CRLF, decimal commas with a
/// thousands dot, ja/nee, a quoted name with a ';' inside, an empty trailing column.
fn dutch_csv() -> Vec<u8> {
    let mut s = String::from("\u{feff}pid;naam;arm;age;work;income;\r\n");
    for (pid, arm, age, work, income) in rows() {
        let inc = format!("{income:.2}").replace('.', ",");
        let (int, frac) = inc.split_once(',').unwrap();
        let inc = format!("{}.{},{frac}", &int[..1], &int[1..]);
        let work = if work { "ja" } else { "nee" };
        s.push_str(&format!(
            "{pid};\"Achternaam; Voornaam\";{arm};{age};{work};{inc};\r\n"
        ));
    }
    s.into_bytes()
}

fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let p = dir.join(name);
    fs::write(&p, bytes).unwrap();
    p
}

fn load(path: &Path, opts: &ReadOptions) -> Frame {
    Frame::load_with(
        path,
        &["arm".into(), "age".into(), "work".into(), "income".into()],
        &[],
        opts,
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

/// The columns every variant must give: arm labels, work as 0/1, income as numbers.
fn assert_same_values(f: &Frame) {
    let want = rows();
    let arm = f.strings("arm").unwrap();
    let work = f.numbers("work").unwrap();
    let income = f.numbers("income").unwrap();
    let age = f.numbers("age").unwrap();
    assert_eq!(arm.len(), 40);
    for (i, (_, a, ag, w, inc)) in want.iter().enumerate() {
        assert_eq!(arm[i].as_deref(), Some(*a), "arm, row {i}");
        assert_eq!(age[i], Some(*ag as f64), "age, row {i}");
        assert_eq!(work[i], Some(f64::from(u8::from(*w))), "work, row {i}");
        assert_eq!(income[i], Some(*inc), "income, row {i}");
    }
}

#[test]
fn a_dutch_excel_csv_reads_like_a_plain_one() {
    let dir = tempfile::tempdir().unwrap();
    let plain = load(
        &write(dir.path(), "plain.csv", plain_csv()),
        &ReadOptions::default(),
    );
    assert_same_values(&plain);
    assert!(plain.assumptions().is_empty(), "{:?}", plain.assumptions());
    let nl_path = write(dir.path(), "nl.csv", dutch_csv());
    let nl = load(&nl_path, &ReadOptions::default());
    assert_same_values(&nl);
    // The empty trailing column is dropped, the quoted ';' kept inside its value.
    let all = Frame::load(&nl_path, &[]).unwrap();
    assert_eq!(
        all.column_names(),
        ["pid", "naam", "arm", "age", "work", "income"]
    );
    assert_eq!(
        all.strings("naam").unwrap()[0].as_deref(),
        Some("Achternaam; Voornaam")
    );
    let a = nl.assumptions().join("\n");
    for needle in [
        "separator ';' detected",
        "decimal comma detected",
        "byte-order mark",
        "\"work\" holds yes/no words (ja, nee)",
        "without a name and without values ignored",
    ] {
        assert!(a.contains(needle), "{needle:?} not in:\n{a}");
    }
}

#[test]
fn tabs_latin1_and_utf16_are_read() {
    let dir = tempfile::tempdir().unwrap();
    // Tab-separated, Latin-1 (é as the single byte 0xE9), WAAR/ONWAAR, Windows line ends.
    let mut latin = b"naam\tarm\tage\twork\tincome\r\n".to_vec();
    for (_, arm, age, work, income) in rows() {
        latin.extend(b"Jos\xe9\t");
        let w = if work { "WAAR" } else { "ONWAAR" };
        latin.extend(format!("{arm}\t{age}\t{w}\t{income}\r\n").as_bytes());
    }
    let p = write(dir.path(), "latin.tsv", &latin);
    let f = load(&p, &ReadOptions::default());
    assert_same_values(&f);
    let a = f.assumptions().join("\n");
    assert!(a.contains("separator tab detected"), "{a}");
    assert!(a.contains("Windows-1252 (Latin-1) assumed"), "{a}");
    let names = Frame::load(&p, &["naam".into()])
        .unwrap()
        .strings("naam")
        .unwrap();
    assert_eq!(names[0].as_deref(), Some("José"));

    // Excel's "Unicode text": UTF-16LE with a byte-order mark, tab-separated.
    let text = String::from_utf8(plain_csv().replace(',', "\t").into_bytes()).unwrap();
    let mut u16 = vec![0xFF, 0xFE];
    for c in text.encode_utf16() {
        u16.extend(c.to_le_bytes());
    }
    let f = load(
        &write(dir.path(), "unicode.txt", &u16),
        &ReadOptions::default(),
    );
    assert_same_values(&f);
    assert!(f.assumptions().join("\n").contains("UTF-16LE"));
}

#[test]
fn missing_markers_negative_numbers_and_extra_markers() {
    let dir = tempfile::tempdir().unwrap();
    let csv = "arm,y,note\n\
               a,-12.5,x\n\
               a,-,\"NA\"\n\
               a,NA,.\n\
               b,NULL,null\n\
               b,.,\n\
               b,,n/a\n\
               b,#N/A,NaN\n\
               a,-99,-\n\
               b,-0.5,ok\n";
    let p = write(dir.path(), "m.csv", csv);
    let f = Frame::load(&p, &["arm".into(), "y".into(), "note".into()]).unwrap();
    assert_eq!(
        f.numbers("y").unwrap(),
        [
            Some(-12.5),
            None,
            None,
            None,
            None,
            None,
            None,
            Some(-99.0),
            Some(-0.5)
        ]
    );
    assert_eq!(f.strings("note").unwrap().iter().flatten().count(), 2);
    let opts = ReadOptions {
        na: vec!["-99".into()],
        ..ReadOptions::default()
    };
    let f = Frame::load_with(&p, &["y".into()], &[], &opts).unwrap();
    assert_eq!(f.numbers("y").unwrap()[7], None);
}

#[test]
fn yes_no_words_and_arm_labels() {
    let dir = tempfile::tempdir().unwrap();
    let csv = "arm,a,b,c,d,e\n\
               1.0,ja,WAAR,true,yes,1\n\
               0.0,Nee,ONWAAR,FALSE,no,0\n\
               1.0,JA,waar,True,Y,1\n";
    let p = write(dir.path(), "yn.csv", csv);
    let f = Frame::load(&p, &[]).unwrap();
    for c in ["a", "b", "c", "d", "e"] {
        assert_eq!(
            f.numbers(c).unwrap(),
            [Some(1.0), Some(0.0), Some(1.0)],
            "{c}"
        );
    }
    // Whole numbers written as decimals match arm labels such as "1".
    assert_eq!(
        f.strings("arm").unwrap(),
        [Some("1".to_string()), Some("0".into()), Some("1".into())]
    );
}

#[test]
fn titles_comments_sep_lines_and_empty_rows_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let csv =
        "sep=;\nExport VIA-pilot gemeente X;;\n;;\n# a comment\narm;y;z\na;1,5;2\n;;\nb;2,5;3\n\n";
    let p = write(dir.path(), "t.csv", csv);
    let f = Frame::load(&p, &["arm".into(), "y".into()]).unwrap();
    assert_eq!(f.numbers("y").unwrap(), [Some(1.5), Some(2.5)]);
    let a = f.assumptions().join("\n");
    for needle in [
        "from the file's \"sep=\" line",
        "above the header skipped as titles",
        "comment line",
        "with only empty fields skipped (line 7)",
        "decimal comma detected",
    ] {
        assert!(a.contains(needle), "{needle:?} not in:\n{a}");
    }
    // Messages name the line of the file as well as the data row.
    let bad = write(dir.path(), "bad.csv", "sep=;\n\narm;y\na;1\nb;x\n");
    let e = Frame::load(&bad, &["y".into()])
        .unwrap()
        .numbers("y")
        .unwrap_err();
    assert!(e.to_string().contains("data row 2 (line 5)"), "{e}");
}

/// Comma-separated files are read by polars with inferred types; a value far down that
/// does not fit the type inferred from the first rows, blank and comment lines between
/// CRLF rows, and an unclosed quote at the end are still reported by line.
#[test]
fn polars_reads_comma_files_and_lines_stay_right() {
    let dir = tempfile::tempdir().unwrap();
    let mut big = String::from("id,arm,y\n");
    for i in 0..20_000 {
        big.push_str(&format!("{i},{},{}\n", ["T", "C"][i % 2], i % 7));
    }
    big.push_str("20000,T,abc\n");
    let p = write(dir.path(), "big.csv", &big);
    let f = Frame::load(&p, &["arm".into(), "y".into()]).unwrap();
    assert_eq!(f.height(), 20_001);
    let e = f.numbers("y").unwrap_err().to_string();
    assert!(
        e.contains("data row 20001 (line 20002)") && e.contains("\"abc\""),
        "{e}"
    );
    // Typed: NA markers are nulls, numbers exact.
    let p = write(dir.path(), "na.csv", "arm,y\nT,NA\nC,2.25\nT,null\nC,-\n");
    let f = Frame::load(&p, &["arm".into(), "y".into()]).unwrap();
    assert_eq!(f.numbers("y").unwrap(), [None, Some(2.25), None, None]);
    // CRLF with a blank line and a comment between rows.
    let p = write(
        dir.path(),
        "crlf.csv",
        "arm,y\r\nT,1.5\r\n\r\n# note\r\nC,2\r\n   \r\nT,x\r\n",
    );
    let f = Frame::load(&p, &["arm".into(), "y".into()]).unwrap();
    assert_eq!(f.height(), 3);
    assert_eq!(f.strings("arm").unwrap()[2].as_deref(), Some("T"));
    let e = f.numbers("y").unwrap_err().to_string();
    assert!(e.contains("data row 3 (line 7)"), "{e}");
    // A quote opened on the last row and never closed.
    let p = write(dir.path(), "q.csv", "arm,y\nT,1\nC,\"4\n");
    let e = Frame::load(&p, &["y".into()]).err().unwrap().to_string();
    assert!(e.contains("line 3") && e.contains("never closed"), "{e}");
    // Codes with leading zeros (municipality 0363) stay text in a typed comma file,
    // and still read as numbers where a number is needed.
    let p = write(
        dir.path(),
        "codes.csv",
        "gemeente,id,y\n0363,007,1.5\n0518,7,2\n0363,0070,3\n",
    );
    let f = Frame::load(&p, &[]).unwrap();
    assert_eq!(f.factor("gemeente").unwrap().levels, ["0363", "0518"]);
    assert!(via_eval::prepare::checks::unique_ids(&f, "id", None).is_ok());
    assert_eq!(
        f.numbers("gemeente").unwrap(),
        [Some(363.0), Some(518.0), Some(363.0)]
    );
    // A row longer than the sample used to detect the separator.
    let long = format!("arm;y;note\nT;1;{}\nC;2;x\n", "z".repeat(100_000));
    let p = write(dir.path(), "long.csv", &long);
    let f = Frame::load(&p, &["arm".into(), "y".into()]).unwrap();
    assert_eq!(f.numbers("y").unwrap(), [Some(1.0), Some(2.0)]);
    // A short row in a large file.
    let mut short = big.replace("20000,T,abc\n", "");
    short.push_str("20000,T\n");
    let p = write(dir.path(), "short.csv", &short);
    let e = Frame::load(&p, &["y".into()]).err().unwrap().to_string();
    assert!(e.contains("line 20002: 2 field(s)"), "{e}");
}

#[test]
fn given_options_beat_detection() {
    let dir = tempfile::tempdir().unwrap();
    // "1.500" alone is ambiguous in a ';' file: the options settle it.
    let p = write(dir.path(), "g.csv", "arm;y\na;1.500\nb;2.250\n");
    let f = Frame::load(&p, &["arm".into(), "y".into()]).unwrap();
    assert_eq!(f.strings("y").unwrap()[0].as_deref(), Some("1.500"));
    let e = f.numbers("y").unwrap_err().to_string();
    assert!(e.contains("could be 1.5") && e.contains("or 1500"), "{e}");
    let comma = ReadOptions {
        decimal_comma: Some(true),
        ..ReadOptions::default()
    };
    let f = Frame::load_with(&p, &["y".into()], &[], &comma).unwrap();
    assert_eq!(f.numbers("y").unwrap(), [Some(1500.0), Some(2250.0)]);
    let point = ReadOptions {
        decimal_comma: Some(false),
        ..ReadOptions::default()
    };
    let f = Frame::load_with(&p, &["y".into()], &[], &point).unwrap();
    assert_eq!(f.numbers("y").unwrap(), [Some(1.5), Some(2.25)]);
    // A given separator is used even where another would split the lines too.
    let p = write(dir.path(), "s.csv", "a|b,c\n1|2,3\n");
    let pipe = ReadOptions {
        delimiter: Some('|'),
        ..ReadOptions::default()
    };
    let f = Frame::load_with(&p, &[], &[], &pipe).unwrap();
    assert_eq!(f.column_names(), ["a", "b,c"]);
}

#[test]
fn excel_workbooks_are_read_directly() {
    let fixtures = root().join("tests/fixtures/input");
    let f = load(&fixtures.join("pilot.xlsx"), &ReadOptions::default());
    assert_same_values(&f);
    let a = f.assumptions().join("\n");
    assert!(
        a.contains("worksheet \"Gegevens\" read, the first of 3"),
        "{a}"
    );
    // A named sheet that is empty, and a header below a title.
    let empty = ReadOptions {
        sheet: Some("Leeg".into()),
        ..ReadOptions::default()
    };
    let e = Frame::load_with(&fixtures.join("pilot.xlsx"), &[], &[], &empty)
        .err()
        .unwrap();
    assert!(e.to_string().contains("worksheet \"Leeg\" is empty"), "{e}");
    let f = load(&fixtures.join("offset.xlsx"), &ReadOptions::default());
    assert_same_values(&f);
    assert!(
        f.assumptions()
            .join("\n")
            .contains("skipped as titles (\"Export VIA-pilot\"); the header is row 3")
    );
    // #N/A is missing; the error cell #DIV/0! is refused with its worksheet row.
    let f = Frame::load(&fixtures.join("errors.xlsx"), &["income".into()]).unwrap();
    let e = f.numbers("income").unwrap_err().to_string();
    assert!(
        e.contains("#DIV/0!") && e.contains("worksheet \"Blad1\", row 6"),
        "{e}"
    );
    // A workbook saved under a .csv name is recognised.
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "really-excel.csv",
        fs::read(fixtures.join("pilot.xlsx")).unwrap(),
    );
    let f = load(&p, &ReadOptions::default());
    assert_same_values(&f);
    assert!(f.assumptions()[0].contains("workbook despite its name"));
}

/// The estimates of a finished run, without the file name.
fn estimates(dir: &Path) -> serde_json::Value {
    let json: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.join("res/results.json")).unwrap()).unwrap();
    json["estimates"].clone()
}

#[test]
fn every_format_gives_the_same_results_and_says_what_it_assumed() {
    let reference = pilot_dir(CONFIG, "mini.csv", plain_csv());
    let args = ["pilot", "mini", "--out", "res", "--quiet"];
    let out = run_in(reference.path(), &args);
    assert!(out.status.success(), "{}", show(&args, &out));
    let want = estimates(reference.path());

    // Dutch CSV, found by detection; notes on stderr.
    let nl = pilot_dir(CONFIG, "mini.csv", dutch_csv());
    let args = ["pilot", "mini", "--out", "res"];
    let out = run_in(nl.path(), &args);
    assert!(out.status.success(), "{}", show(&args, &out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("note: notebooks-data/mini.csv: separator ';' detected")
            && err.contains("decimal comma detected"),
        "{err}"
    );
    assert_eq!(estimates(nl.path()), want);

    // The same, told by the config (no detection notes then).
    let cfg = CONFIG.replace(
        "id = \"pid\"",
        "id = \"pid\"\ndelimiter = \";\"\ndecimal_comma = true\nencoding = \"utf-8\"\nna = [\"-99\"]",
    );
    let told = pilot_dir(&cfg, "mini.csv", dutch_csv());
    let out = run_in(told.path(), &args);
    assert!(out.status.success(), "{}", show(&args, &out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !err.contains("separator") && !err.contains("decimal comma"),
        "{err}"
    );
    assert_eq!(estimates(told.path()), want);

    // A flag overrides the config: the config's ',' is wrong for this file.
    let wrong = CONFIG.replace("id = \"pid\"", "id = \"pid\"\ndelimiter = \",\"");
    let d = pilot_dir(&wrong, "mini.csv", dutch_csv());
    let out = run_in(d.path(), &["pilot", "mini", "--out", "res"]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&args, &out));
    let flagged = [
        "pilot",
        "mini",
        "--out",
        "res",
        "--quiet",
        "--delimiter",
        ";",
        "--decimal-comma",
    ];
    let out = run_in(d.path(), &flagged);
    assert!(out.status.success(), "{}", show(&flagged, &out));
    assert_eq!(estimates(d.path()), want);

    // An Excel workbook named in the config, with the worksheet chosen.
    let cfg = CONFIG.replace(
        "file = \"mini.csv\"",
        "file = \"mini.xlsx\"\nsheet = \"Gegevens\"",
    );
    let xlsx = fs::read(root().join("tests/fixtures/input/pilot.xlsx")).unwrap();
    let wb = pilot_dir(&cfg, "mini.xlsx", &xlsx);
    let out = run_in(wb.path(), &args);
    assert!(out.status.success(), "{}", show(&args, &out));
    assert_eq!(estimates(wb.path()), want);
}

#[test]
fn compare_reads_options_and_guesses_a_text_control_arm() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = String::from("groep;uitkomst\n");
    for i in 0..20 {
        let g = if i % 2 == 0 {
            "interventie"
        } else {
            "controle"
        };
        s.push_str(&format!("{g};{},{}\n", 10 + i % 7, i % 10));
    }
    write(dir.path(), "g.txt", s);
    let args = [
        "compare",
        "g.txt",
        "--treatment",
        "groep",
        "--outcome",
        "uitkomst",
        "--format",
        "csv",
    ];
    let out = run_in(dir.path(), &args);
    assert!(out.status.success(), "{}", show(&args, &out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("control arm \"controle\" assumed") && err.contains("decimal comma"),
        "{err}"
    );
    let csv = String::from_utf8_lossy(&out.stdout);
    assert!(csv.contains("interventie vs controle"), "{csv}");
    // --decimal-comma=false refuses the commas, naming row and value.
    let mut strict = args.to_vec();
    strict.push("--decimal-comma=false");
    let out = run_in(dir.path(), &strict);
    assert_eq!(out.status.code(), Some(1), "{}", show(&strict, &out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("\"10,0\" has a decimal comma") && err.contains("data row 1 (line 2)"),
        "{err}"
    );
}

#[test]
fn inputs_are_never_changed() {
    let d = pilot_dir(CONFIG, "mini.csv", dutch_csv());
    let data = d.path().join("notebooks-data/mini.csv");
    let cfg = d.path().join("pilots/mini.toml");
    let mut perms = fs::metadata(&data).unwrap().permissions();
    perms.set_readonly(true);
    fs::set_permissions(&data, perms).unwrap();
    let before = (fs::read(&data).unwrap(), fs::read(&cfg).unwrap());
    let mtime = fs::metadata(&data).unwrap().modified().unwrap();
    let args = ["pilot", "mini", "--out", "res", "--quiet"];
    let out = run_in(d.path(), &args);
    assert!(out.status.success(), "{}", show(&args, &out));
    assert_eq!(before, (fs::read(&data).unwrap(), fs::read(&cfg).unwrap()));
    assert_eq!(mtime, fs::metadata(&data).unwrap().modified().unwrap());
}
