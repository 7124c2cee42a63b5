//! Config parsing: any text must give a spec or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = via_eval::config::PilotSpec::from_toml(&text, Path::new("pilots/demo.toml"));
});
