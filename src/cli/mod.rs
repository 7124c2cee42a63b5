//! One module per subcommand; each has an `Args` struct (clap) and a `run` function.

pub mod compare;
pub mod output;
pub mod pilot;
pub mod pilots;
pub mod simulate;
