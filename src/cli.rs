//! The command line: `quire [serve]`, `quire migrate`, and `quire user add|list|reset-password|disable|enable|invite`.
//! Parses flags into config overrides and runs administrative commands against the store.

use std::{io::BufRead, path::PathBuf};

use clap::{Args, Parser, Subcommand};

use crate::{
    auth,
    config::{self, Config, ConfigError, Sources},
    store::Store,
};

#[derive(Debug, Parser)]
#[command(
    name = "quire",
    version,
    about = "Quire: collaborative documents for a small team, in one binary"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalFlags,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Args)]
pub struct GlobalFlags {
    /// Configuration file (default: $QUIRE_CONFIG, else ./quire.toml when present).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Address to listen on (server.listen).
    #[arg(long, global = true, value_name = "ADDR")]
    pub listen: Option<String>,
    /// Origin users reach Quire at (server.public_url).
    #[arg(long, global = true, value_name = "URL")]
    pub public_url: Option<String>,
    /// Data directory (storage.data_dir).
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<String>,
    /// Database URL, sqlite://... or postgres://... (database.url).
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// Log level or filter (log.level).
    #[arg(long, global = true, value_name = "LEVEL")]
    pub log_level: Option<String>,
    /// Any other key, as section.key=value; may repeat.
    #[arg(long = "set", global = true, value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Test-only: transform with the wrong priority (proves the convergence tests can fail).
    #[arg(long, global = true, hide = true)]
    pub testing_wrong_priority: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the editor, pages, API and WebSocket (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account; the password is read from standard input.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
    },
    /// List accounts.
    List,
    /// Set a new password (read from standard input) and end the user's sessions.
    ResetPassword {
        #[arg(long)]
        email: String,
    },
    /// Disable an account and end its sessions.
    Disable {
        #[arg(long)]
        email: String,
    },
    /// Re-enable a disabled account.
    Enable {
        #[arg(long)]
        email: String,
    },
    /// Create an invitation link for an e-mail (for auth.signup = "invite").
    Invite {
        #[arg(long)]
        email: String,
    },
}

impl GlobalFlags {
    /// The configuration sources in precedence order: file, then environment, then these flags.
    pub fn sources(&self, env: Vec<(String, String)>) -> Result<Sources, ConfigError> {
        let path = self
            .config
            .clone()
            .or_else(|| {
                env.iter()
                    .find(|(key, _)| key == "QUIRE_CONFIG")
                    .map(|(_, value)| PathBuf::from(value))
            })
            .or_else(|| Some(PathBuf::from("quire.toml")).filter(|path| path.exists()));
        let file = match path {
            Some(path) => {
                let text = std::fs::read_to_string(&path).map_err(|err| ConfigError {
                    key: "--config".into(),
                    value: path.display().to_string(),
                    expected: format!("a readable TOML file ({err})"),
                })?;
                Some((path, text))
            }
            None => None,
        };
        let mut flags = Vec::new();
        let named = [
            ("server.listen", &self.listen),
            ("server.public_url", &self.public_url),
            ("storage.data_dir", &self.data_dir),
            ("database.url", &self.database_url),
            ("log.level", &self.log_level),
        ];
        for (key, value) in named {
            if let Some(value) = value {
                flags.push((key.to_string(), value.clone()));
            }
        }
        for item in &self.set {
            let (key, value) = item.split_once('=').ok_or_else(|| ConfigError {
                key: "--set".into(),
                value: item.clone(),
                expected: "section.key=value".into(),
            })?;
            flags.push((key.trim().to_string(), value.to_string()));
        }
        Ok(Sources { file, env, flags })
    }

    pub fn load(&self) -> Result<Config, ConfigError> {
        let mut config = config::load(&self.sources(std::env::vars().collect())?)?;
        config.testing_wrong_priority = self.testing_wrong_priority;
        Ok(config)
    }
}

async fn open_store(config: &Config) -> anyhow::Result<Store> {
    if let config::DatabaseUrl::Sqlite(_) = config.database {
        std::fs::create_dir_all(&config.data_dir)?;
    }
    Ok(Store::open(&config.database, config.db_max_connections, config.sync).await?)
}

pub async fn migrate(config: &Config) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    store.close().await;
    println!("database is up to date");
    Ok(())
}

fn read_password() -> anyhow::Result<String> {
    eprintln!("Password (read from standard input, one line):");
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let password = line.trim_end_matches(['\n', '\r']).to_string();
    let n_chars = password.chars().count();
    anyhow::ensure!(
        n_chars >= auth::MIN_PASSWORD_LEN && password.len() <= auth::MAX_PASSWORD_LEN,
        "the password needs at least {} characters",
        auth::MIN_PASSWORD_LEN
    );
    Ok(password)
}

pub async fn user(config: &Config, command: UserCommand) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    let res = run_user_command(config, &store, command).await;
    store.close().await;
    res
}

async fn run_user_command(
    config: &Config,
    store: &Store,
    command: UserCommand,
) -> anyhow::Result<()> {
    match command {
        UserCommand::Add { email, name } => {
            let email = email.trim().to_lowercase();
            anyhow::ensure!(
                auth::valid_email(&email),
                "not a valid e-mail address: {email}"
            );
            anyhow::ensure!(!name.trim().is_empty(), "the name cannot be empty");
            let hash = auth::hash_password(&read_password()?).map_err(anyhow::Error::msg)?;
            let user = store
                .create_user(&auth::random_id(16), &email, name.trim(), &hash)
                .await?;
            println!("created {} <{}> ({})", user.name, user.email, user.id);
        }
        UserCommand::List => {
            for user in store.list_users().await? {
                let state = if user.disabled { "disabled" } else { "active" };
                let admin = if config.auth.admins.contains(&user.email) {
                    " admin"
                } else {
                    ""
                };
                println!(
                    "{}\t{}\t{}\t{}{}",
                    user.id, user.email, user.name, state, admin
                );
            }
        }
        UserCommand::ResetPassword { email } => {
            let user = find_user(store, &email).await?;
            let hash = auth::hash_password(&read_password()?).map_err(anyhow::Error::msg)?;
            store.set_password(&user.id, &hash).await?;
            println!(
                "password changed for {}; their sessions have ended",
                user.email
            );
        }
        UserCommand::Disable { email } => {
            let user = find_user(store, &email).await?;
            store.set_disabled(&user.id, true).await?;
            println!("disabled {}", user.email);
        }
        UserCommand::Enable { email } => {
            let user = find_user(store, &email).await?;
            store.set_disabled(&user.id, false).await?;
            println!("enabled {}", user.email);
        }
        UserCommand::Invite { email } => {
            let email = email.trim().to_lowercase();
            anyhow::ensure!(
                auth::valid_email(&email),
                "not a valid e-mail address: {email}"
            );
            let token = auth::new_token();
            store
                .create_invite(&auth::token_hash(&token), &email, None)
                .await?;
            println!("{}/signup?invite={token}", config.public_url);
        }
    }
    Ok(())
}

async fn find_user(store: &Store, email: &str) -> anyhow::Result<crate::store::User> {
    store
        .user_by_email(email)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no user with e-mail {email}"))
}
