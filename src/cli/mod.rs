//! The command line: `quire [serve]`, `quire migrate`, `quire user add|list|reset-password|disable|enable|invite`,
//! `quire compact`, `quire doctor`, `quire cluster ...`, `quire db copy` and `quire backup`. Parses flags into config
//! overrides and runs administrative commands against the store.

mod cluster;
mod db;

use std::{io::BufRead, path::PathBuf};

use clap::{Args, Parser, Subcommand};

use crate::{
    auth,
    config::{self, Config, ConfigError, Sources},
    hub,
    ot::{Delta, Document},
    store::{DocMeta, DocScope, NewVersion, Store, now_ms},
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
    /// Test-only: transform with the wrong priority (proves the convergence tests can fail). Compiled in only with
    /// the `testing` feature, which only the test build turns on (Cargo.toml's self dev-dependency).
    #[cfg(feature = "testing")]
    #[arg(long, global = true, hide = true)]
    pub testing_wrong_priority: bool,
    /// Test-only: ack before committing (proves the durability test can fail). `testing` feature only.
    #[cfg(feature = "testing")]
    #[arg(long, global = true, hide = true)]
    pub testing_ack_before_commit: bool,
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
    /// Write a version of every document (or one) whose head is past its current version, then prune the log
    /// behind it as `[history]` says.
    Compact {
        /// Only this document. Ids may start with "-" (they are random URL-safe characters).
        #[arg(long, value_name = "ID", allow_hyphen_values = true)]
        doc: Option<String>,
    },
    /// Check every document: its current version plus the logged ops after it replay to a valid document,
    /// and the revisions run without a gap up to the head. Prints one line per problem; exits 1 if any.
    Doctor,
    /// Inspect the cluster (`[cluster]` must be enabled): its members, and who owns a document.
    #[command(subcommand)]
    Cluster(ClusterCommand),
    /// Move an install to another database.
    #[command(subcommand)]
    Db(DbCommand),
    /// Write a consistent backup of the SQLite database to PATH while Quire serves (on PostgreSQL: says what to
    /// run instead).
    Backup {
        /// A new file.
        path: PathBuf,
    },
    /// Send a test message to ADDRESS through the `[mail]` settings, to check them before anyone relies on them.
    MailTest {
        /// Where to send it.
        address: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Copy every table (users, sessions, tokens, documents, members, links, versions, the log) from one database
    /// to another, keeping ids and revisions, then check the counts and every document's content. Stop Quire
    /// first. Example: quire db copy --from sqlite:./quire-data/quire.db --to postgres://quire@db/quire
    Copy {
        /// The database to copy from: sqlite:PATH or postgres://...
        #[arg(long)]
        from: String,
        /// The database to copy into (migrated first): sqlite:PATH or postgres://...; must be empty...
        #[arg(long)]
        to: String,
        /// ...unless this copy finishes an interrupted one (rows already there are kept).
        #[arg(long)]
        resume: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ClusterCommand {
    /// The members registered in ZooKeeper now, with their epochs and URLs.
    Status,
    /// The node that owns a document on the current ring, and the owner recorded by its last claim.
    Owner {
        /// The document's id. Ids may start with "-" (they are random URL-safe characters).
        #[arg(allow_hyphen_values = true)]
        doc: String,
    },
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
        #[cfg_attr(not(feature = "testing"), allow(unused_mut))]
        let mut config = config::load(&self.sources(std::env::vars().collect())?)?;
        #[cfg(feature = "testing")]
        {
            config.testing_wrong_priority = self.testing_wrong_priority;
            config.testing_ack_before_commit = self.testing_ack_before_commit;
        }
        Ok(config)
    }
}

pub(crate) async fn open_store(config: &Config) -> anyhow::Result<Store> {
    if let config::DatabaseUrl::Sqlite(_) = config.database {
        std::fs::create_dir_all(&config.data_dir)?;
    }
    Ok(Store::open(&config.database, config.db_max_connections, config.sync).await?)
}

pub use cluster::cluster;
pub use db::{backup, db};

/// `quire mail-test ADDRESS`: one message through the configured SMTP server; the error says why it did not leave.
pub async fn mail_test(config: &Config, address: &str) -> anyhow::Result<()> {
    let settings = config.mail.as_ref().ok_or_else(|| {
        anyhow::anyhow!("e-mail is off: set [mail] enabled = true and its host and from")
    })?;
    let mailer = crate::mail::Mailer::new(Some(settings))?;
    let text = crate::mail::TestMessage {
        public_url: config.public_url.clone(),
    };
    mailer.send(address, &text).await?;
    println!(
        "sent a test message to {address} through {}:{}",
        settings.host, settings.port
    );
    Ok(())
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
                "password changed for {}; their sessions have ended and their API tokens are revoked",
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

/// `quire compact [--doc ID]`.
pub async fn compact(config: &Config, doc: Option<String>) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    let res = compact_all(config, &store, doc).await;
    store.close().await;
    res
}

async fn compact_all(config: &Config, store: &Store, only: Option<String>) -> anyhow::Result<()> {
    let docs = match only {
        Some(id) => vec![
            store
                .document(&id)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no document with id {id}"))?,
        ],
        None => all_documents(store).await?,
    };
    let mut written = 0;
    for doc in &docs {
        if compact_one(config, store, doc).await? {
            written += 1;
        }
    }
    println!("{written} of {} documents compacted", docs.len());
    Ok(())
}

/// Writes a version at head when the head is past the current one (returns whether it did), then prunes the log
/// behind the current version as `[history]` says. Pruning also runs when the version is up to date, so a
/// compaction stopped between the two steps (killed, say) is finished by the next one.
async fn compact_one(config: &Config, store: &Store, doc: &DocMeta) -> anyhow::Result<bool> {
    let version_rev = store.current_snapshot(&doc.id).await?.map(|s| s.rev);
    let up_to_date = version_rev.is_some_and(|rev| rev >= doc.head_rev)
        || (version_rev.is_none() && doc.head_rev == 0);
    let rev = match (up_to_date, version_rev) {
        (true, Some(rev)) => rev,
        (true, None) => {
            println!("{}: empty", doc.id);
            return Ok(false);
        }
        (false, _) => write_compaction(store, doc, version_rev, config.history.authorship).await?,
    };
    let pruned = prune_behind(config, store, &doc.id, rev).await?;
    let from = version_rev.map_or("none".to_string(), |r| r.to_string());
    match up_to_date {
        true => println!(
            "{}: up to date at revision {rev}, pruned {pruned} ops",
            doc.id
        ),
        false => println!(
            "{}: wrote a version at revision {rev} (was {from}), pruned {pruned} ops",
            doc.id
        ),
    }
    Ok(!up_to_date)
}

/// A version of the document at its head; returns its revision.
async fn write_compaction(
    store: &Store,
    doc: &DocMeta,
    version_rev: Option<i64>,
    authorship: bool,
) -> anyhow::Result<i64> {
    // Before the version, as the hub does: with no stored map, a version's text is of unknown authorship.
    match authorship {
        true => {
            let stored = hub::stored_authorship_at_head(store, &doc.id).await?;
            store.save_authorship(&doc.id, &stored).await?;
        }
        false => store.delete_authorship(&doc.id).await?,
    }
    let (rev, content) = hub::load_content(store, &doc.id).await?;
    let contributors = store
        .ops_since(&doc.id, version_rev.unwrap_or(0))
        .await?
        .into_iter()
        .filter_map(|op| op.author_id)
        .collect::<std::collections::BTreeSet<_>>();
    let rev = i64::try_from(rev)?;
    store
        .write_version(&NewVersion {
            id: auth::random_id(16),
            doc_id: doc.id.clone(),
            rev,
            content_json: content.to_json().to_string(),
            kind: "compaction",
            name: None,
            created_by: None,
            contributors: contributors.into_iter().collect(),
            size: i64::try_from(content.length())?,
        })
        .await?;
    Ok(rev)
}

/// Prunes the log behind a version at `rev` as the hub does: keep `history.keep_ops` ops and those younger than
/// `history.keep_age`, unless the prunable part is over `history.keep_bytes`.
async fn prune_behind(
    config: &Config,
    store: &Store,
    doc_id: &str,
    rev: i64,
) -> anyhow::Result<u64> {
    let keep_ops = i64::try_from(config.history.keep_ops).unwrap_or(i64::MAX);
    let keep_ms = i64::try_from(config.history.keep_age.as_millis()).unwrap_or(i64::MAX);
    let below = rev.min(rev.saturating_sub(keep_ops));
    let over_budget = u64::try_from(store.log_bytes(doc_id, below).await?)
        .is_ok_and(|bytes| bytes > config.history.keep_bytes);
    let older_than = match over_budget {
        true => i64::MAX,
        false => now_ms().saturating_sub(keep_ms),
    };
    Ok(store.prune_ops(doc_id, below, older_than).await?)
}

/// Every document: each user's own and trashed ones (every document has exactly one owner).
async fn all_documents(store: &Store) -> anyhow::Result<Vec<DocMeta>> {
    const PAGE: i64 = 500;
    let mut docs = Vec::new();
    for user in store.list_users().await? {
        for scope in [DocScope::Owned, DocScope::Trash] {
            let mut offset = 0;
            loop {
                let page = store
                    .documents_for(&user.id, scope, "", PAGE, offset)
                    .await?;
                let n = page.len() as i64;
                docs.extend(page.into_iter().map(|(doc, _)| doc));
                if n < PAGE {
                    break;
                }
                offset += PAGE;
            }
        }
    }
    Ok(docs)
}

/// `quire doctor`.
pub async fn doctor(config: &Config) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    let res = doctor_all(&store).await;
    store.close().await;
    res
}

async fn doctor_all(store: &Store) -> anyhow::Result<()> {
    let docs = all_documents(store).await?;
    let mut problems = 0;
    for doc in &docs {
        for problem in check_document(store, doc).await? {
            println!("{}: {problem}", doc.id);
            problems += 1;
        }
    }
    println!("checked {} documents: {problems} problems", docs.len());
    anyhow::ensure!(problems == 0, "{problems} problems found");
    Ok(())
}

/// The problems of one document: its version plus its tail must replay to a valid document at head.
async fn check_document(store: &Store, doc: &DocMeta) -> anyhow::Result<Vec<String>> {
    let mut problems = Vec::new();
    let snapshot = store.current_snapshot(&doc.id).await?;
    if doc.current_version_id.is_some() && snapshot.is_none() {
        problems.push("the current version is missing".to_string());
    }
    let (mut expected, mut document) = match &snapshot {
        None => (0, Document::new()),
        Some(snapshot) => match parse_delta(&snapshot.content_json)
            .and_then(|d| Document::from_delta(&d).map_err(|err| err.to_string()))
        {
            Ok(document) => (snapshot.rev, document),
            Err(err) => {
                problems.push(format!(
                    "the current version at revision {} is not a document: {err}",
                    snapshot.rev
                ));
                return Ok(problems);
            }
        },
    };
    for op in store.ops_since(&doc.id, expected).await? {
        if op.rev != expected {
            problems.push(format!(
                "revision {expected} is missing (the log goes on at {})",
                op.rev
            ));
            return Ok(problems);
        }
        let applied = parse_delta(&op.op_json).and_then(|change| {
            document
                .apply(&change, u64::MAX)
                .map_err(|err| err.to_string())
        });
        if let Err(err) = applied {
            problems.push(format!(
                "the op at revision {} does not apply: {err}",
                op.rev
            ));
            return Ok(problems);
        }
        expected += 1;
    }
    if expected != doc.head_rev {
        problems.push(format!(
            "the log ends at revision {expected} but the head is {}",
            doc.head_rev
        ));
    }
    if !document.text().ends_with('\n') {
        problems.push("the document does not end with a newline".to_string());
    }
    Ok(problems)
}

fn parse_delta(json: &str) -> Result<Delta, String> {
    let value: serde_json::Value = serde_json::from_str(json).map_err(|err| err.to_string())?;
    Delta::from_json_unchecked(&value).map_err(|err| err.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Document ids are random URL-safe characters, so one in 64 starts with "-": it is still an id, not a flag.
    #[test]
    fn a_document_id_starting_with_a_hyphen_is_an_id() {
        let owner =
            Cli::try_parse_from(["quire", "cluster", "owner", "-iXyZ_abc"]).expect("parses");
        assert!(
            matches!(owner.command, Some(Command::Cluster(ClusterCommand::Owner { ref doc })) if doc == "-iXyZ_abc"),
            "{owner:?}"
        );
        let compact =
            Cli::try_parse_from(["quire", "compact", "--doc", "-iXyZ_abc"]).expect("parses");
        assert!(
            matches!(compact.command, Some(Command::Compact { doc: Some(ref doc) }) if doc == "-iXyZ_abc"),
            "{compact:?}"
        );
    }
}
