//! CSV loading: any bytes written to a .csv file must load or give an error, and every
//! column of a loaded file must read as text and as numbers without a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use via_eval::data::Frame;

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("via-eval-fuzz-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join("input.csv");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    if let Ok(frame) = Frame::load(&path, &[]) {
        for c in frame.column_names() {
            let _ = frame.strings(&c);
            let _ = frame.numbers(&c);
            let _ = frame.factor(&c);
        }
    }
});
