//! `via-eval completions <shell>` and `via-eval man`: shell completions and manual
//! pages, generated from the same clap definitions as `--help`, so they cannot
//! disagree with it. The binary passes its command definition in.

use std::path::PathBuf;

use crate::error::{Error, Result};

#[derive(clap::Args, Debug)]
#[command(after_help = COMPLETIONS_EXAMPLES)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

pub const COMPLETIONS_EXAMPLES: &str = "\
Examples:
  via-eval completions bash > ~/.local/share/bash-completion/completions/via-eval
  via-eval completions zsh > ~/.zfunc/_via-eval      # with fpath+=(~/.zfunc) in .zshrc
  via-eval completions fish > ~/.config/fish/completions/via-eval.fish";

#[derive(clap::Args, Debug)]
#[command(after_help = MAN_EXAMPLES)]
pub struct ManArgs {
    /// Write one page per command (via-eval.1, via-eval-pilot.1, ...) into this
    /// folder instead of printing the main page.
    #[arg(short, long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

pub const MAN_EXAMPLES: &str = "\
Examples:
  via-eval man | man -l -                  # read the main page
  via-eval man -o man/ && man -l man/via-eval-pilot.1";

/// Print the completion script for `args.shell` to stdout.
pub fn completions(mut cmd: clap::Command, args: &CompletionsArgs) -> Result<()> {
    let name = cmd.get_name().to_string();
    let mut buf = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, name, &mut buf);
    super::print_out(&String::from_utf8_lossy(&buf))
}

/// Print the main manual page, or write every page into `args.out`.
pub fn man(cmd: clap::Command, args: &ManArgs) -> Result<()> {
    match &args.out {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::io(dir, "cannot create the folder").with_cause(e))?;
            clap_mangen::generate_to(cmd, dir)
                .map_err(|e| Error::io(dir, "cannot write the manual pages").with_cause(e))
        }
        None => {
            let mut buf = Vec::new();
            clap_mangen::Man::new(cmd)
                .render(&mut buf)
                .map_err(|e| Error::analysis("cannot render the manual page").with_cause(e))?;
            super::print_out(&String::from_utf8_lossy(&buf))
        }
    }
}
