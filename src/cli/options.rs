//! The options that act on some subcommands only: how calls to the service are made
//! ([`Connection`]), how long a task is followed ([`Following`]) and where completion callbacks
//! are received ([`Listening`]). A subcommand that uses one flattens its group into its own
//! arguments, so its help lists exactly what acts on it; the app (`fouro` alone) takes all three
//! before any subcommand, and a value given there also serves the subcommand that follows.

use std::net::SocketAddr;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::parser::ValueSource;
use clap::{ArgMatches, Args};

use super::GlobalArgs;

/// How calls to the service are made.
#[derive(Debug, Clone, Default, Args)]
pub struct Connection {
    /// Seconds to wait for one HTTP answer [env: FOURO_TIMEOUT] [default: 60]
    #[arg(long, env = "FOURO_TIMEOUT", hide_env = true, value_name = "SECS")]
    pub timeout: Option<u64>,
    /// How many times a failed call that is safe to repeat is tried again [env: FOURO_RETRIES]
    /// [default: 4]
    #[arg(long, env = "FOURO_RETRIES", hide_env = true, value_name = "N")]
    pub retries: Option<u32>,
}

/// How long a task is followed.
#[derive(Debug, Clone, Default, Args)]
pub struct Following {
    /// Minutes to keep following a task through a slow queue and a service that fails for a
    /// while; the task stays resumable after [env: FOURO_FOLLOW_LIMIT] [default: 15]
    #[arg(
        long,
        env = "FOURO_FOLLOW_LIMIT",
        hide_env = true,
        value_name = "MINUTES",
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    pub follow_limit: Option<u64>,
}

/// Where completion callbacks are received.
#[derive(Debug, Clone, Default, Args)]
pub struct Listening {
    /// Receive the completion callback on this address, e.g. 127.0.0.1:8787
    /// [env: FOURO_CALLBACK_LISTEN]
    #[arg(long, value_name = "ADDR")]
    pub callback_listen: Option<SocketAddr>,
    /// The public URL the service posts callbacks to, e.g. a tunnel to --callback-listen
    /// [env: FOURO_CALLBACK_PUBLIC_URL]
    #[arg(long, value_name = "URL", value_parser = super::parse_http_url)]
    pub callback_public_url: Option<String>,
}

/// The groups of options one command line gave: the app's (before any subcommand) or a
/// subcommand's own.
#[derive(Debug, Clone, Copy, Default)]
pub struct Given<'a> {
    pub connection: Option<&'a Connection>,
    pub following: Option<&'a Following>,
    pub listening: Option<&'a Listening>,
}

impl GlobalArgs {
    /// The settings with the app's options and then the subcommand's laid over them. A
    /// subcommand's value wins only when it was typed: one it took from the environment must
    /// not override a value typed before the subcommand.
    pub(crate) fn with_options(
        mut self,
        app: Given<'_>,
        sub: Given<'_>,
        typed: &ArgMatches,
    ) -> Self {
        for (given, only_typed) in [(app, false), (sub, true)] {
            let keep = |id: &str| !only_typed || typed_here(typed, id);
            if let Some(c) = given.connection {
                if let Some(t) = c.timeout.filter(|_| keep("timeout")) {
                    self.timeout = t;
                }
                if let Some(r) = c.retries.filter(|_| keep("retries")) {
                    self.retries = r;
                }
            }
            if let Some(f) = given.following
                && let Some(m) = f.follow_limit.filter(|_| keep("follow_limit"))
            {
                self.follow_limit = m;
            }
            if let Some(l) = given.listening {
                if l.callback_listen.is_some() {
                    self.callback_listen = l.callback_listen;
                }
                if l.callback_public_url.is_some() {
                    self.callback_public_url = l.callback_public_url.clone();
                }
            }
        }
        self
    }
}

/// An app option typed before a subcommand that does nothing with it (`fouro --retries 1
/// history`): what to tell the person, naming the option and where it belongs.
pub(crate) fn unused_before(matches: &ArgMatches, sub: Given<'_>) -> Option<String> {
    let (name, mut m) = matches.subcommand()?;
    let mut path = vec![name];
    while let Some((inner, next)) = m.subcommand() {
        path.push(inner);
        m = next;
    }
    // `demo` opens the app: how it calls the service and follows tasks are the app's.
    let demo = name == "demo";
    let groups = [
        (
            Connection::augment_args(clap::Command::new("")),
            sub.connection.is_some() || demo,
        ),
        (
            Following::augment_args(clap::Command::new("")),
            sub.following.is_some() || demo,
        ),
        (
            Listening::augment_args(clap::Command::new("")),
            sub.listening.is_some(),
        ),
    ];
    let unused = groups
        .iter()
        .filter(|(_, used)| !used)
        .flat_map(|(group, _)| group.get_arguments())
        .find(|arg| {
            matches!(
                matches.value_source(arg.get_id().as_str()),
                Some(ValueSource::CommandLine)
            )
        })?;
    let flag = format!(
        "--{}",
        unused.get_long().unwrap_or(unused.get_id().as_str())
    );
    let value = unused
        .get_value_names()
        .and_then(|v| v.first())
        .map(|v| format!(" <{v}>"))
        .unwrap_or_default();
    Some(format!(
        "`fouro {}` does not use {flag}, typed before it: {flag} is an option of the app (`fouro {flag}{value}`) and of the subcommands whose --help lists it; leave it out here",
        path.join(" ")
    ))
}

/// Whether the innermost subcommand of `matches` had `id` typed on its command line.
fn typed_here(matches: &ArgMatches, id: &str) -> bool {
    let mut m = matches;
    while let Some((_, sub)) = m.subcommand() {
        m = sub;
    }
    m.try_contains_id(id).unwrap_or(false)
        && matches!(m.value_source(id), Some(ValueSource::CommandLine))
}

/// One of a fixed list of words, parsed into `T`; the help and the completions list them.
pub(crate) fn one_of<T>(words: &'static [&'static str]) -> impl TypedValueParser<Value = T>
where
    T: std::str::FromStr<Err = String> + Clone + Send + Sync + 'static,
{
    PossibleValuesParser::new(words).try_map(|s| s.parse::<T>())
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, FromArgMatches};

    use crate::cli::{Cli, Command};

    /// A command line parsed.
    fn parsed(args: &[&str]) -> (Cli, clap::ArgMatches) {
        let matches = Cli::command()
            .try_get_matches_from(std::iter::once("fouro").chain(args.iter().copied()))
            .unwrap();
        (Cli::from_arg_matches(&matches).unwrap(), matches)
    }

    /// The options `cli`'s subcommand takes.
    fn taken(cli: &Cli) -> super::Given<'_> {
        cli.command
            .as_ref()
            .map(Command::options)
            .unwrap_or_default()
    }

    /// The settings a command line ends with (no environment involved).
    fn settled(args: &[&str]) -> (u64, u32, u64) {
        let (cli, matches) = parsed(args);
        let g = cli
            .global
            .clone()
            .with_options(cli.app_options(), taken(&cli), &matches);
        (g.timeout, g.retries, g.follow_limit)
    }

    #[test]
    fn a_subcommand_takes_the_app_options_typed_before_it_and_its_own_win() {
        assert_eq!(settled(&["status", "t"]), (60, 4, 15));
        assert_eq!(settled(&["--retries", "1", "status", "t"]), (60, 1, 15));
        assert_eq!(
            settled(&["--retries", "1", "status", "t", "--retries", "2"]),
            (60, 2, 15)
        );
        assert_eq!(
            settled(&["--timeout", "5", "generate", "p", "--follow-limit", "2"]),
            (5, 4, 2)
        );
        assert_eq!(settled(&["--follow-limit", "3"]), (60, 4, 3));
        // Before a subcommand that does not use it, an app option is refused, by name.
        let why = |args: &[&str]| {
            let (cli, matches) = parsed(args);
            super::unused_before(&matches, taken(&cli))
        };
        let refused = why(&["--retries", "1", "history"]).expect("refused");
        assert!(
            refused.starts_with("`fouro history` does not use --retries"),
            "{refused}"
        );
        assert!(refused.contains("`fouro --retries <N>`"), "{refused}");
        assert!(why(&["--follow-limit", "2", "profile", "list"]).is_some());
        assert!(why(&["--callback-listen", "127.0.0.1:9", "demo"]).is_some());
        // Where it acts, it is taken: the app, a subcommand that uses it, the demo (the app).
        for args in [
            &["--retries", "1"][..],
            &["--retries", "1", "status", "t"],
            &["--timeout", "5", "key", "set"],
            &["--follow-limit", "3", "demo"],
            &["history"],
        ] {
            assert_eq!(why(args), None, "{args:?}");
        }
        assert!(
            Cli::command()
                .try_get_matches_from(["fouro", "history", "--retries", "1"])
                .is_err()
        );
    }
}
