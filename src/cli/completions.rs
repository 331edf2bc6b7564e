//! `fouro completions SHELL`: the completion script for a shell, from the command-line
//! definition itself (so it lists what the help lists).

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use super::{Cli, exit};

#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in
    pub shell: Shell,
}

pub fn run(args: &CompletionsArgs) -> u8 {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "fouro", &mut script);
    write_own(&script)
}

/// Text fouro made itself from its own definitions (a script, a manual page), on stdout as it
/// is: nothing in it came from outside. A closed stdout is not an error (`| head`).
pub(super) fn write_own(bytes: &[u8]) -> u8 {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => exit::OK,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => exit::OK,
        Err(e) => {
            crate::cli::print::errln!("fouro: cannot write to standard output: {e}");
            exit::UNEXPECTED
        }
    }
}
