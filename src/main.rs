//! The `quire` binary: parse the command line, load and validate the configuration, start logging, run the command.

use std::process::ExitCode;

use clap::Parser;
use quire::cli::{self, Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match cli.global.load() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("quire: {err}");
            return ExitCode::from(2);
        }
    };
    init_tracing(&config.log_level, config.log_json);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("quire: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let res = runtime.block_on(async move {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => {
                let listener =
                    tokio::net::TcpListener::bind(config.listen)
                        .await
                        .map_err(|err| {
                            quire::config::ConfigError::unusable(
                                "server.listen",
                                config.listen,
                                err,
                            )
                        })?;
                quire::server::run(config, listener, quire::server::shutdown_signal()).await
            }
            Command::Migrate => cli::migrate(&config).await,
            Command::User(command) => cli::user(&config, command).await,
            Command::Compact { doc } => cli::compact(&config, doc).await,
            Command::Doctor => cli::doctor(&config).await,
            Command::Cluster(command) => cli::cluster(&config, command).await,
            Command::Db(command) => cli::db(&config, command).await,
            Command::Backup { path } => cli::backup(&config, &path).await,
            Command::MailTest { address } => cli::mail_test(&config, &address).await,
        }
    });
    match res {
        Ok(()) => ExitCode::SUCCESS,
        // A setting that validated but does not work here (a port in use, a database that does not answer) is a
        // configuration problem too: exit 2, naming the key.
        Err(err) if err.downcast_ref::<quire::config::ConfigError>().is_some() => {
            eprintln!("quire: {err}");
            ExitCode::from(2)
        }
        Err(err) => {
            eprintln!("quire: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Logs to standard error: JSON objects for log shippers (`log.format = "json"`), else text, coloured only when
/// standard error is a terminal (escape codes in a log file are noise).
fn init_tracing(level: &str, json: bool) {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_new(level).unwrap_or_else(|_| "info".into());
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        logs.json().init();
    } else {
        logs.with_ansi(std::io::stderr().is_terminal()).init();
    }
}
