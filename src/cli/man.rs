//! `fouro man [DIR]`: the manual pages, made from the command-line definition itself: one per
//! subcommand (`fouro-generate.1`, `fouro-key-set.1`, …) written into DIR, or one page on
//! standard output.

use std::path::PathBuf;

use clap::{Args, CommandFactory};

use super::{Cli, exit};

#[derive(Debug, Clone, Args)]
pub struct ManArgs {
    /// Write every page into this directory (made if missing) [default: one page on standard
    /// output]
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// The page to print on standard output: a subcommand, e.g. `generate` or `key set`
    /// [default: the main page]
    #[arg(long, value_name = "COMMAND", conflicts_with = "dir", num_args = 1..)]
    pub page: Vec<String>,
}

pub fn run(args: &ManArgs) -> u8 {
    let mut command = Cli::command();
    command.build();
    if let Some(dir) = &args.dir {
        return write_all(command, dir);
    }
    // Built, a subcommand has its full path as its display name: the page's title,
    // fouro-key-set.
    let mut name = "fouro".to_owned();
    let mut page = command;
    for word in args.page.iter().flat_map(|w| w.split_whitespace()) {
        let Some(sub) = page.find_subcommand(word).cloned() else {
            crate::cli::print::errln!(
                "fouro: {} has no subcommand {word:?}: see `{} --help`",
                name.replace('-', " "),
                name.replace('-', " ")
            );
            return exit::USAGE;
        };
        name = format!("{name}-{}", sub.get_name());
        page = sub;
    }
    let mut roff = Vec::new();
    if let Err(e) = clap_mangen::Man::new(page).render(&mut roff) {
        crate::cli::print::errln!("fouro: cannot make the manual page: {e}");
        return exit::UNEXPECTED;
    }
    super::completions::write_own(&roff)
}

fn write_all(command: clap::Command, dir: &std::path::Path) -> u8 {
    let made = std::fs::create_dir_all(dir).and_then(|()| clap_mangen::generate_to(command, dir));
    match made {
        Ok(()) => {
            crate::cli::print::errln!("fouro: manual pages written to {}", dir.display());
            exit::OK
        }
        Err(e) => {
            crate::cli::print::errln!(
                "fouro: cannot write the manual pages to {}: {e}",
                dir.display()
            );
            exit::UNEXPECTED
        }
    }
}
