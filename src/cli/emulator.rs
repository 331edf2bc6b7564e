//! `fouro emulator`: the built-in stand-in for the service, on a real port.

use std::net::IpAddr;
use std::time::Duration;

use clap::Args;

use super::exit;
use crate::emulator::{Emulator, EmulatorConfig};

#[derive(Debug, Clone, Args)]
pub struct EmulatorArgs {
    /// Address to listen on
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,
    /// Port to listen on (0 picks a free one)
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// An API key to accept (repeatable) [default: demo-key]
    #[arg(long = "key", value_name = "K")]
    pub keys: Vec<String>,
    /// Starting credit balance
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(i64).range(0..))]
    pub credits: i64,
    /// Credits each image costs
    #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(i64).range(0..))]
    pub cost: i64,
    /// Seconds from submit to the end of a task
    #[arg(long, default_value_t = 8.0, value_name = "SECS", value_parser = super::parse_seconds)]
    pub duration: f64,
    /// Share of tasks that fail (0 to 1)
    #[arg(long, default_value_t = 0.0, value_name = "F", value_parser = super::parse_share)]
    pub fail_rate: f64,
    /// Sign callbacks with this HMAC key
    #[arg(long, value_name = "K")]
    pub webhook_key: Option<String>,
}

pub async fn run(args: EmulatorArgs) -> u8 {
    let keys = if args.keys.is_empty() {
        vec!["demo-key".to_owned()]
    } else {
        args.keys
    };
    let config = EmulatorConfig {
        host: args.host,
        port: args.port,
        keys,
        credits: args.credits,
        cost: args.cost,
        duration: Duration::from_secs_f64(args.duration),
        fail_rate: args.fail_rate,
        webhook_key: args.webhook_key,
    };
    let emulator = match Emulator::start(config).await {
        Ok(e) => e,
        Err(e) => {
            crate::cli::print::errln!(
                "fouro: the emulator could not listen on {}:{}: {e}; pick another --port",
                args.host,
                args.port
            );
            return exit::UNEXPECTED;
        }
    };
    crate::cli::print::outln!("{}", emulator.base_url());
    crate::cli::print::errln!(
        "fouro emulator listening; use: fouro --base-url {} --api-key <key> ...  (Ctrl-C stops)",
        emulator.base_url()
    );
    let code = match tokio::signal::ctrl_c().await {
        Ok(()) => exit::OK,
        Err(e) => {
            crate::cli::print::errln!("fouro: cannot wait for Ctrl-C ({e}); stopping the emulator");
            exit::UNEXPECTED
        }
    };
    emulator.shutdown().await;
    code
}
