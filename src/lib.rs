//! via-eval: evaluate policy pilots.
//!
//! Layers, from the bottom up:
//! - [`stats`]: pure estimators on slices and small structs (no polars, no I/O);
//! - [`config`]: pilot TOML → validated [`config::PilotSpec`];
//! - [`data`]: polars loading and validation, turning frames into estimator inputs;
//! - [`analysis`]: a pilot's plan (which estimator for which outcome and design) and
//!   its results;
//! - [`report`] and [`plot`]: renderers (JSON, CSV, Markdown, HTML, charts) that compute
//!   nothing;
//! - [`simulate`]: synthetic pilot data with recorded true effects;
//! - [`coverage`]: the coverage simulation of `via-eval coverage` (how often each
//!   estimator's 95% interval holds the true effect in designs like the pilots');
//! - [`cli`]: one module per subcommand.

pub mod analysis;
pub mod cli;
pub mod config;
pub mod coverage;
pub mod cpu;
pub mod data;
pub mod error;
pub mod memory;
pub mod numfmt;
pub mod plot;
pub mod prepare;
pub mod report;
pub mod simulate;
pub mod stats;
pub mod timings;

pub use error::{Error, Result};
