//! Configuration: built-in defaults < TOML file < `QUIRE_SECTION__KEY` environment < command-line flags.
//! Everything is validated once here; the rest of the program receives a typed `Config` and never reads the environment.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use serde::{Deserialize, Serialize};

/// The raw shape of the TOML file. `Default` gives the documented defaults, so `config.example.toml` can be checked against it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RawConfig {
    pub server: RawServer,
    pub storage: RawStorage,
    pub database: RawDatabase,
    pub auth: RawAuth,
    pub limits: RawLimits,
    pub history: RawHistory,
    pub sharing: RawSharing,
    pub log: RawLog,
    pub metrics: RawMetrics,
    pub cluster: RawCluster,
    pub mail: RawMail,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RawMail {
    pub enabled: bool,
    pub host: String,
    pub port: i64,
    pub tls: String,
    pub username: String,
    pub password: String,
    pub from: String,
    pub timeout: String,
    pub reset_lifetime: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RawCluster {
    pub enabled: bool,
    pub zookeeper: String,
    pub name: String,
    pub node_id: String,
    pub advertise_url: String,
    pub secret: String,
    pub session_timeout: String,
    pub virtual_nodes: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RawMetrics {
    pub token: String,
    pub listen: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RawSharing {
    pub anonymous_links: bool,
    pub guests_per_address_per_minute: i64,
    pub guests_per_minute: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RawHistory {
    pub compact_every_ops: i64,
    pub compact_every_bytes: i64,
    pub keep_ops: i64,
    pub keep_age: String,
    pub keep_bytes: i64,
    pub keep_versions: i64,
    pub idle_grace: String,
    pub authorship: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RawServer {
    pub listen: String,
    pub public_url: String,
    pub trusted_proxies: Vec<String>,
    pub header_timeout: String,
    pub coalesce_us_per_person: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RawStorage {
    pub data_dir: String,
    pub sync: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RawDatabase {
    pub url: String,
    pub max_connections: i64,
    pub replicas: Vec<String>,
    pub replica_max_lag: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RawAuth {
    pub signup: String,
    pub admins: Vec<String>,
    pub session_ttl: String,
    pub login_max_failures: i64,
    pub login_window: String,
    /// Password log-in and sign-up; `false` leaves only the `oidc` providers.
    pub password: bool,
    /// OpenID Connect providers, `[[auth.oidc]]` in the file.
    pub oidc: Vec<RawOidcProvider>,
}

/// One `[[auth.oidc]]` table. Every key has a default so that a missing one is named by `validate_oidc`, not by
/// the TOML reader.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RawOidcProvider {
    pub id: String,
    pub display_name: String,
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    pub scopes: Vec<String>,
    pub allowed_domains: Vec<String>,
    pub create_accounts: bool,
}

impl Default for RawOidcProvider {
    fn default() -> Self {
        RawOidcProvider {
            id: String::new(),
            display_name: String::new(),
            issuer: String::new(),
            client_id: String::new(),
            client_secret: String::new(),
            scopes: ["openid", "email", "profile"].map(String::from).to_vec(),
            allowed_domains: Vec::new(),
            create_accounts: false,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RawLimits {
    pub max_message_bytes: i64,
    pub max_components: i64,
    pub max_doc_len: i64,
    pub max_embed_bytes: i64,
    pub max_attribute_keys: i64,
    pub max_catchup_ops: i64,
    pub max_catchup_bytes: i64,
    pub max_transform_ops: i64,
    pub ops_per_second: i64,
    pub ops_burst: i64,
    pub presence_per_second: i64,
    pub presence_burst: i64,
    pub outbound_queue: i64,
    pub max_connections_per_user: i64,
    pub idle_timeout: String,
    pub recheck_every: String,
    pub max_documents_per_user: i64,
    pub max_image_bytes: i64,
    pub image_quota_bytes: i64,
    pub max_named_versions: i64,
    pub versions_per_minute: i64,
    pub auth_per_minute: i64,
    pub imports_per_minute: i64,
    pub api_per_second: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RawLog {
    pub level: String,
    pub format: String,
}

impl Default for RawConfig {
    fn default() -> Self {
        RawConfig {
            server: RawServer {
                listen: "127.0.0.1:8080".into(),
                public_url: String::new(),
                trusted_proxies: Vec::new(),
                header_timeout: "10s".into(),
                coalesce_us_per_person: DEFAULT_COALESCE_US_PER_PERSON,
            },
            storage: RawStorage {
                data_dir: "./quire-data".into(),
                sync: "normal".into(),
            },
            database: RawDatabase {
                url: String::new(),
                max_connections: 8,
                replicas: Vec::new(),
                replica_max_lag: "5s".into(),
            },
            auth: RawAuth {
                signup: "open".into(),
                admins: Vec::new(),
                session_ttl: "30d".into(),
                login_max_failures: 5,
                login_window: "15m".into(),
                password: true,
                oidc: Vec::new(),
            },
            limits: RawLimits {
                max_message_bytes: 1 << 20,
                max_components: 10_000,
                max_doc_len: 2_000_000,
                max_embed_bytes: 64 << 10,
                max_attribute_keys: 32,
                max_catchup_ops: 10_000,
                max_catchup_bytes: 8 << 20,
                max_transform_ops: 1000,
                ops_per_second: 50,
                ops_burst: 100,
                presence_per_second: 20,
                presence_burst: 40,
                outbound_queue: 1024,
                max_connections_per_user: 64,
                idle_timeout: "60s".into(),
                recheck_every: "30s".into(),
                max_documents_per_user: 10_000,
                max_image_bytes: 10 << 20,
                image_quota_bytes: 1 << 30,
                max_named_versions: 500,
                versions_per_minute: 10,
                auth_per_minute: 30,
                imports_per_minute: 20,
                api_per_second: 20,
            },
            history: RawHistory {
                compact_every_ops: 1000,
                compact_every_bytes: 4 << 20,
                keep_ops: 10_000,
                keep_age: "7d".into(),
                keep_bytes: 64 << 20,
                keep_versions: 50,
                idle_grace: "3s".into(),
                authorship: true,
            },
            sharing: RawSharing {
                anonymous_links: false,
                guests_per_address_per_minute: 5,
                guests_per_minute: 60,
            },
            log: RawLog {
                level: "info".into(),
                format: "text".into(),
            },
            metrics: RawMetrics {
                token: String::new(),
                listen: String::new(),
            },
            cluster: RawCluster {
                enabled: false,
                zookeeper: "127.0.0.1:2181".into(),
                name: "quire".into(),
                node_id: String::new(),
                advertise_url: String::new(),
                secret: String::new(),
                session_timeout: "4s".into(),
                virtual_nodes: 128,
            },
            mail: RawMail {
                enabled: false,
                host: String::new(),
                port: 587,
                tls: "starttls".into(),
                username: String::new(),
                password: String::new(),
                from: String::new(),
                timeout: "10s".into(),
                reset_lifetime: "1h".into(),
            },
        }
    }
}
impl Default for RawMail {
    fn default() -> Self {
        RawConfig::default().mail
    }
}
impl Default for RawServer {
    fn default() -> Self {
        RawConfig::default().server
    }
}
impl Default for RawStorage {
    fn default() -> Self {
        RawConfig::default().storage
    }
}
impl Default for RawDatabase {
    fn default() -> Self {
        RawConfig::default().database
    }
}
impl Default for RawAuth {
    fn default() -> Self {
        RawConfig::default().auth
    }
}
impl Default for RawLimits {
    fn default() -> Self {
        RawConfig::default().limits
    }
}
impl Default for RawHistory {
    fn default() -> Self {
        RawConfig::default().history
    }
}
impl Default for RawSharing {
    fn default() -> Self {
        RawConfig::default().sharing
    }
}
impl Default for RawMetrics {
    fn default() -> Self {
        RawConfig::default().metrics
    }
}
impl Default for RawCluster {
    fn default() -> Self {
        RawConfig::default().cluster
    }
}
impl Default for RawLog {
    fn default() -> Self {
        RawConfig::default().log
    }
}

/// The validated configuration handed to the server.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    /// Origin users reach us at, without a trailing slash, e.g. `http://127.0.0.1:8080`.
    pub public_url: String,
    /// `server.public_url` was set, not derived from `server.listen`: browsers' `Origin` must then equal it.
    pub public_url_explicit: bool,
    /// Proxies whose `X-Forwarded-For` / `Forwarded` headers name the client (`server.trusted_proxies`).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// How long a connection may take to send a request's headers (slow clients hold sockets open).
    pub header_timeout: Duration,
    /// How long a busy document holds its next round per person in it (`server.coalesce_us_per_person`; 0: never).
    pub coalesce_per_person: Duration,
    /// `/metrics` needs `Authorization: Bearer <token>` on the main listener (`None`: not served there).
    pub metrics_token: Option<String>,
    /// A separate address serving only `/metrics`, without a token.
    pub metrics_listen: Option<SocketAddr>,
    /// Log lines as JSON objects (`log.format = "json"`), for log shippers.
    pub log_json: bool,
    pub data_dir: PathBuf,
    pub sync: SyncMode,
    pub database: DatabaseUrl,
    pub db_max_connections: u32,
    /// PostgreSQL streaming replicas for reads that tolerate a little lag (`database.replicas`).
    pub db_replicas: Vec<String>,
    /// A replica further behind than this is skipped (`database.replica_max_lag`).
    pub db_replica_max_lag: Duration,
    pub auth: AuthConfig,
    pub limits: Limits,
    pub history: HistoryConfig,
    /// Share-link visitors may join as named guests without an account.
    pub anonymous_links: bool,
    /// Guest accounts one client address may create per minute through share links...
    pub guests_per_address_per_minute: u32,
    /// ...and all addresses together.
    pub guests_per_minute: u32,
    pub log_level: String,
    /// `None`: one node on its own (the default); nothing of the cluster runs and ZooKeeper is never contacted.
    pub cluster: Option<ClusterConfig>,
    /// `None`: e-mail is off (the default); pages then offer links to copy instead of sending them.
    pub mail: Option<MailConfig>,
    /// Test-only: the hub transforms with the wrong priority, so tests can prove the convergence check can fail.
    /// Never read from the file or environment; only the hidden `--testing-wrong-priority` flag sets it.
    pub testing_wrong_priority: bool,
    /// Test-only: the hub acks a round before writing it, and writes it late, so tests can prove the durability
    /// check can fail. Only the hidden `--testing-ack-before-commit` flag sets it.
    pub testing_ack_before_commit: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncMode {
    /// WAL with `synchronous=NORMAL`: survives a crash of the process, not a power loss.
    Normal,
    /// `synchronous=FULL`: every commit is fsynced.
    Full,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(String),
    Postgres(String),
}

impl DatabaseUrl {
    pub fn as_str(&self) -> &str {
        match self {
            DatabaseUrl::Sqlite(url) | DatabaseUrl::Postgres(url) => url,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignupPolicy {
    Open,
    Invite,
    Closed,
}

#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub signup: SignupPolicy,
    /// Lower-cased e-mails of administrators.
    pub admins: Vec<String>,
    pub session_ttl: Duration,
    pub login_max_failures: u32,
    pub login_window: Duration,
    /// Set the `Secure` cookie flag (public_url is https).
    pub secure_cookies: bool,
    /// Password log-in and sign-up are on (`auth.password`); when off, only the OIDC providers sign people in.
    pub password: bool,
    pub oidc: Vec<OidcProvider>,
}

/// An OpenID Connect provider people may sign in with (`[[auth.oidc]]`).
#[derive(Clone)]
pub struct OidcProvider {
    /// Short and URL-safe: `/auth/oidc/{id}/start`.
    pub id: String,
    /// On the button: "Sign in with {display_name}".
    pub display_name: String,
    /// Exactly as the provider's `iss` claim says it (some end in a slash).
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// Always holds `openid`.
    pub scopes: Vec<String>,
    /// Lower-cased domains a verified e-mail must be in; empty allows any.
    pub allowed_domains: Vec<String>,
    /// A first sign-in with an unknown verified e-mail creates an account; otherwise it is refused.
    pub create_accounts: bool,
}

/// By hand, so that the client secret never reaches a log line.
impl std::fmt::Debug for OidcProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcProvider")
            .field("id", &self.id)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &"***")
            .field("scopes", &self.scopes)
            .field("allowed_domains", &self.allowed_domains)
            .field("create_accounts", &self.create_accounts)
            .finish()
    }
}

/// Membership in a cluster of nodes over one PostgreSQL (`[cluster]`, see docs/cluster.md).
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    /// ZooKeeper's connect string, e.g. `zk1:2181,zk2:2181,zk3:2181`.
    pub zookeeper: String,
    /// Clusters sharing one ZooKeeper live under `/quire/<name>`.
    pub name: String,
    /// This node's id, unique in the cluster: its place on the ring.
    pub node_id: String,
    /// Where browsers and clients reach this node directly (redirects point here), e.g. `https://n1.docs.example.com`.
    pub advertise_url: String,
    /// Signs the tickets that carry a user's sign-in from one node to another (the same on every node).
    pub secret: String,
    pub session_timeout: Duration,
    pub virtual_nodes: u32,
}

/// Sending e-mail through an SMTP server (`[mail]`): password resets, invitations, share notifications.
#[derive(Debug, Clone)]
pub struct MailConfig {
    pub host: String,
    pub port: u16,
    pub tls: MailTls,
    /// `None`: the server takes mail without authentication (a local relay).
    pub credentials: Option<(String, String)>,
    /// The sender, e.g. `Quire <docs@example.com>`, already checked to parse as a mailbox.
    pub from: String,
    /// The longest a request waits for the SMTP server before it tells the person sending failed.
    pub timeout: Duration,
    /// How long a password-reset link works.
    pub reset_lifetime: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailTls {
    /// Plain text: only for a relay on this machine or a trusted network.
    None,
    /// Plain connection upgraded with STARTTLS, which is required (submission, usually port 587).
    Starttls,
    /// TLS from the first byte (implicit TLS, usually port 465).
    Tls,
}

/// Snapshots (compaction) and how much of the operation log is kept.
#[derive(Debug, Clone)]
pub struct HistoryConfig {
    /// Write a new version after this many ops while a document stays open...
    pub compact_every_ops: u64,
    /// ...or after this many bytes of ops, whichever comes first.
    pub compact_every_bytes: u64,
    /// Keep at least this many of the newest ops in the log...
    pub keep_ops: u64,
    /// ...and every op younger than this...
    pub keep_age: Duration,
    /// ...unless the prunable part of a document's log holds more bytes than this; then all of it goes.
    pub keep_bytes: u64,
    /// Automatic versions kept in full; older ones are thinned to the last of each day.
    pub keep_versions: u64,
    /// How long a document stays loaded after the last person leaves; then it is compacted and closed.
    pub idle_grace: Duration,
    /// Keep who wrote each character (`history.authorship`), for the editor's "Show authors".
    pub authorship: bool,
}

/// Protocol and per-connection limits (PROTOCOL.md "Limits").
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_message_bytes: usize,
    pub max_components: usize,
    pub max_doc_len: u64,
    pub max_embed_bytes: usize,
    pub max_attribute_keys: usize,
    pub max_catchup_ops: u64,
    /// The window of recent ops each open document keeps, in bytes of their JSON.
    pub max_catchup_bytes: usize,
    /// An op based further behind head than this is refused with `rev_too_old` (the client resumes).
    pub max_transform_ops: u64,
    pub ops_per_second: u32,
    pub ops_burst: u32,
    pub presence_per_second: u32,
    pub presence_burst: u32,
    pub outbound_queue: usize,
    pub max_connections_per_user: usize,
    /// A WebSocket that sends nothing for this long is closed (the editor pings every 20 s).
    pub idle_timeout: Duration,
    /// How often an open WebSocket checks that its session or token still holds (revocations by another process).
    pub recheck_every: Duration,
    /// Documents one user may own, trashed ones included.
    pub max_documents_per_user: u64,
    /// The largest image one upload may carry.
    pub max_image_bytes: usize,
    /// The bytes of images one person may have uploaded (counted once per distinct image still in use).
    pub image_quota_bytes: u64,
    /// Named versions one document may hold.
    pub max_named_versions: u64,
    /// Named versions and restores one user may make per minute.
    pub versions_per_minute: u32,
    /// Per client address: sign-ups, log-ins and guest joins a minute...
    pub auth_per_minute: u32,
    /// ...imports a minute...
    pub imports_per_minute: u32,
    /// ...and JSON API requests a second (bursts of ten times as many).
    pub api_per_second: u32,
}

impl Default for Limits {
    fn default() -> Self {
        validate(RawConfig::default())
            .expect("defaults are valid")
            .limits
    }
}

/// A configuration problem, reported before anything starts. Exit status 2.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("invalid configuration: {key} = {value}: {expected}")]
pub struct ConfigError {
    pub key: String,
    pub value: String,
    pub expected: String,
}

impl ConfigError {
    /// A value that is well formed but does not work here: the address is taken, the database does not answer.
    pub fn unusable(
        key: &str,
        value: impl std::fmt::Display,
        err: impl std::fmt::Display,
    ) -> ConfigError {
        bad(key, value, &format!("a working setting (here: {err})"))
    }
}

/// A database URL for messages: the password, if any, is replaced by `***`.
pub fn redacted_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((credentials, host)) if credentials.contains(':') => {
            let user = credentials.split(':').next().unwrap_or("");
            format!("{scheme}://{user}:***@{host}")
        }
        _ => url.to_string(),
    }
}

fn bad(key: &str, value: impl std::fmt::Display, expected: &str) -> ConfigError {
    ConfigError {
        key: key.to_string(),
        value: value.to_string(),
        expected: expected.to_string(),
    }
}

/// Where configuration comes from, in increasing precedence after the file.
#[derive(Debug, Default)]
pub struct Sources {
    /// TOML text of the config file, with its path for messages.
    pub file: Option<(PathBuf, String)>,
    /// All environment variables; only `QUIRE_*__*` ones are read.
    pub env: Vec<(String, String)>,
    /// `section.key = value` overrides from the command line.
    pub flags: Vec<(String, String)>,
}

/// Merges the sources over the defaults and validates the result.
pub fn load(sources: &Sources) -> Result<Config, ConfigError> {
    let mut table = default_table();
    if let Some((path, text)) = &sources.file {
        let file: toml::Table = toml::from_str(text)
            .map_err(|err| bad("file", path.display(), &format!("valid TOML ({err})")))?;
        merge_file(&mut table, file)?;
    }
    for (name, value) in &sources.env {
        let Some(rest) = name.strip_prefix("QUIRE_") else {
            continue;
        };
        let Some((section, key)) = rest.split_once("__") else {
            continue;
        };
        let dotted = format!("{}.{}", section.to_lowercase(), key.to_lowercase());
        set_from_string(&mut table, &dotted, value, name)?;
    }
    for (dotted, value) in &sources.flags {
        set_from_string(&mut table, dotted, value, dotted)?;
    }
    let raw: RawConfig = toml::Value::Table(table)
        .try_into()
        .map_err(|err| bad("config", "", &err.to_string()))?;
    validate(raw)
}

/// The defaults as a TOML table: the authority for which keys exist and what type each has.
pub fn default_table() -> toml::Table {
    match toml::Value::try_from(RawConfig::default()) {
        Ok(toml::Value::Table(table)) => table,
        // The default is a plain struct of strings, integers and arrays; serializing it cannot fail.
        _ => unreachable!("RawConfig serializes to a table"),
    }
}

fn merge_file(table: &mut toml::Table, file: toml::Table) -> Result<(), ConfigError> {
    for (section, value) in file {
        let Some(toml::Value::Table(known)) = table.get_mut(&section) else {
            return Err(bad(
                &section,
                "",
                &format!("a known section ({})", section_names()),
            ));
        };
        let toml::Value::Table(entries) = value else {
            return Err(bad(&section, value, "a [section] table"));
        };
        for (key, value) in entries {
            let dotted = format!("{section}.{key}");
            let Some(default) = known.get(&key) else {
                return Err(bad(&dotted, value, "a known key (see config.example.toml)"));
            };
            if std::mem::discriminant(default) != std::mem::discriminant(&value) {
                return Err(bad(&dotted, &value, &format!("a {}", default.type_str())));
            }
            known.insert(key, value);
        }
    }
    Ok(())
}

fn section_names() -> String {
    default_table()
        .keys()
        .cloned()
        .collect::<Vec<_>>()
        .join(", ")
}

/// Sets `section.key` from a string (environment or flag), parsed by the type of the default.
fn set_from_string(
    table: &mut toml::Table,
    dotted: &str,
    text: &str,
    origin: &str,
) -> Result<(), ConfigError> {
    let slot = dotted
        .split_once('.')
        .and_then(|(section, key)| table.get_mut(section)?.as_table_mut()?.get_mut(key))
        .ok_or_else(|| bad(origin, text, "a known key (see config.example.toml)"))?;
    *slot = match slot {
        toml::Value::String(_) => toml::Value::String(text.to_string()),
        toml::Value::Integer(_) => toml::Value::Integer(
            text.trim()
                .parse()
                .map_err(|_| bad(dotted, text, "an integer"))?,
        ),
        toml::Value::Boolean(_) => toml::Value::Boolean(
            text.trim()
                .parse()
                .map_err(|_| bad(dotted, text, "true or false"))?,
        ),
        toml::Value::Array(_) => toml::Value::Array(
            text.split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(|item| toml::Value::String(item.to_string()))
                .collect(),
        ),
        _ => return Err(bad(dotted, text, "a key settable from a string")),
    };
    Ok(())
}

fn validate(raw: RawConfig) -> Result<Config, ConfigError> {
    let listen: SocketAddr = raw.server.listen.parse().map_err(|_| {
        bad(
            "server.listen",
            &raw.server.listen,
            "an address and port such as 127.0.0.1:8080",
        )
    })?;
    let public_url = validate_public_url(&raw.server.public_url, listen)?;
    let trusted_proxies = raw
        .server
        .trusted_proxies
        .iter()
        .map(|entry| {
            parse_net(entry).ok_or_else(|| {
                bad(
                    "server.trusted_proxies",
                    entry,
                    "addresses or CIDR blocks such as 127.0.0.1 or 10.0.0.0/8",
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let metrics_listen = match raw.metrics.listen.trim() {
        "" => None,
        text => Some(text.parse().map_err(|_| {
            bad(
                "metrics.listen",
                text,
                "an address and port such as 127.0.0.1:9090, or \"\" for none",
            )
        })?),
    };
    let log_json = match raw.log.format.as_str() {
        "text" => false,
        "json" => true,
        other => return Err(bad("log.format", other, "\"text\" or \"json\"")),
    };
    let data_dir = match raw.storage.data_dir.trim() {
        "" => return Err(bad("storage.data_dir", "\"\"", "a directory path")),
        dir => PathBuf::from(dir),
    };
    let sync = match raw.storage.sync.as_str() {
        "normal" => SyncMode::Normal,
        "full" => SyncMode::Full,
        other => return Err(bad("storage.sync", other, "\"normal\" or \"full\"")),
    };
    let database = validate_database_url(&raw.database.url, &data_dir)?;
    let db_replicas = validate_replicas(&raw.database.replicas, &database)?;
    let auth = validate_auth(&raw.auth, public_url.starts_with("https://"))?;
    let limits = validate_limits(&raw.limits)?;
    let history = HistoryConfig {
        compact_every_ops: positive("history.compact_every_ops", raw.history.compact_every_ops)?,
        compact_every_bytes: positive(
            "history.compact_every_bytes",
            raw.history.compact_every_bytes,
        )?,
        keep_ops: positive("history.keep_ops", raw.history.keep_ops)?,
        keep_age: duration("history.keep_age", &raw.history.keep_age)?,
        keep_bytes: positive("history.keep_bytes", raw.history.keep_bytes)?,
        keep_versions: positive("history.keep_versions", raw.history.keep_versions)?,
        idle_grace: duration("history.idle_grace", &raw.history.idle_grace)?,
        authorship: raw.history.authorship,
    };
    let cluster = validate_cluster(&raw.cluster, &database, &public_url)?;
    let mail = validate_mail(&raw.mail)?;
    let log_level = raw.log.level.clone();
    if tracing_level_ok(&log_level).is_none() {
        return Err(bad(
            "log.level",
            &log_level,
            "one of error, warn, info, debug, trace (or an EnvFilter directive)",
        ));
    }
    Ok(Config {
        listen,
        public_url_explicit: !raw.server.public_url.is_empty(),
        public_url,
        trusted_proxies,
        header_timeout: duration("server.header_timeout", &raw.server.header_timeout)?,
        coalesce_per_person: coalesce_per_person(raw.server.coalesce_us_per_person)?,
        metrics_token: Some(raw.metrics.token.trim().to_string()).filter(|token| !token.is_empty()),
        metrics_listen,
        log_json,
        data_dir,
        sync,
        database,
        db_max_connections: positive("database.max_connections", raw.database.max_connections)?,
        db_replicas,
        db_replica_max_lag: duration("database.replica_max_lag", &raw.database.replica_max_lag)?,
        auth,
        limits,
        history,
        anonymous_links: raw.sharing.anonymous_links,
        guests_per_address_per_minute: positive(
            "sharing.guests_per_address_per_minute",
            raw.sharing.guests_per_address_per_minute,
        )?,
        guests_per_minute: positive("sharing.guests_per_minute", raw.sharing.guests_per_minute)?,
        log_level,
        cluster,
        mail,
        testing_wrong_priority: false,
        testing_ack_before_commit: false,
    })
}

fn tracing_level_ok(level: &str) -> Option<()> {
    let ok = !level.trim().is_empty()
        && level
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_=,:.-".contains(c));
    ok.then_some(())
}

fn validate_public_url(url: &str, listen: SocketAddr) -> Result<String, ConfigError> {
    if url.is_empty() {
        return Ok(format!("http://{listen}"));
    }
    let trimmed = url.trim_end_matches('/');
    let scheme_ok = trimmed.starts_with("http://") || trimmed.starts_with("https://");
    let has_host = trimmed.split_once("://").is_some_and(|(_, rest)| {
        !rest.is_empty() && !rest.contains('/') && !rest.contains(char::is_whitespace)
    });
    if !scheme_ok || !has_host {
        return Err(bad(
            "server.public_url",
            url,
            "an origin such as https://docs.example.com (no path)",
        ));
    }
    Ok(trimmed.to_string())
}

fn validate_cluster(
    raw: &RawCluster,
    database: &DatabaseUrl,
    public_url: &str,
) -> Result<Option<ClusterConfig>, ConfigError> {
    if !raw.enabled {
        return Ok(None);
    }
    if let DatabaseUrl::Sqlite(url) = database {
        return Err(bad(
            "cluster.enabled",
            format!("true with database.url = {url}"),
            "a PostgreSQL database.url shared by every node (a SQLite file belongs to one machine)",
        ));
    }
    let name_ok = |text: &str| {
        (1..=64).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
    };
    if !name_ok(&raw.name) {
        return Err(bad(
            "cluster.name",
            &raw.name,
            "1 to 64 letters, digits, '-', '_' or '.'",
        ));
    }
    if !name_ok(&raw.node_id) {
        return Err(bad(
            "cluster.node_id",
            &raw.node_id,
            "this node's unique id: 1 to 64 letters, digits, '-', '_' or '.'",
        ));
    }
    if raw.zookeeper.trim().is_empty() {
        return Err(bad(
            "cluster.zookeeper",
            "\"\"",
            "a connect string such as zk1:2181,zk2:2181",
        ));
    }
    if raw.secret.len() < 32 {
        return Err(bad(
            "cluster.secret",
            "(hidden)",
            "at least 32 characters, the same on every node (e.g. `openssl rand -hex 32`)",
        ));
    }
    let advertise_url = match raw.advertise_url.trim() {
        "" => public_url.to_string(),
        // Not empty, so the listen address (only used to derive a default) does not matter.
        url => validate_public_url(url, SocketAddr::from(([0, 0, 0, 0], 0))).map_err(|_| {
            bad(
                "cluster.advertise_url",
                url,
                "this node's own origin, such as https://n1.docs.example.com",
            )
        })?,
    };
    let session_timeout = duration("cluster.session_timeout", &raw.session_timeout)?;
    let virtual_nodes: u32 = positive("cluster.virtual_nodes", raw.virtual_nodes)?;
    if virtual_nodes > 4096 {
        return Err(bad("cluster.virtual_nodes", virtual_nodes, "at most 4096"));
    }
    Ok(Some(ClusterConfig {
        zookeeper: raw.zookeeper.trim().to_string(),
        name: raw.name.clone(),
        node_id: raw.node_id.clone(),
        advertise_url,
        secret: raw.secret.clone(),
        session_timeout,
        virtual_nodes,
    }))
}

fn validate_mail(raw: &RawMail) -> Result<Option<MailConfig>, ConfigError> {
    if !raw.enabled {
        return Ok(None);
    }
    let host = raw.host.trim();
    if host.is_empty() || host.contains(|c: char| c.is_whitespace() || c == '/' || c == ':') {
        return Err(bad(
            "mail.host",
            format!("{:?}", raw.host),
            "the SMTP server's host name, such as smtp.example.com (the port goes in mail.port)",
        ));
    }
    let port = u16::try_from(raw.port)
        .ok()
        .filter(|port| *port > 0)
        .ok_or_else(|| {
            bad(
                "mail.port",
                raw.port,
                "a port from 1 to 65535, usually 587 or 465",
            )
        })?;
    let tls = match raw.tls.as_str() {
        "none" => MailTls::None,
        "starttls" => MailTls::Starttls,
        "tls" => MailTls::Tls,
        other => return Err(bad("mail.tls", other, "\"starttls\", \"tls\" or \"none\"")),
    };
    let credentials = match (raw.username.trim(), raw.password.as_str()) {
        ("", "") => None,
        ("", _) => {
            return Err(bad(
                "mail.username",
                "\"\"",
                "the SMTP user that goes with mail.password",
            ));
        }
        (_, "") => {
            return Err(bad(
                "mail.password",
                "\"\"",
                "the password of mail.username",
            ));
        }
        // A password sent in the clear could be read on the way to anything but this machine.
        (_, _) if tls == MailTls::None && !is_loopback_host(host) => {
            return Err(bad(
                "mail.tls",
                "none with a password",
                "\"starttls\" or \"tls\" when mail.username is set (\"none\" sends the password in the clear)",
            ));
        }
        (user, password) => Some((user.to_string(), password.to_string())),
    };
    let from = raw.from.trim();
    if !crate::mail::is_mailbox(from) {
        return Err(bad(
            "mail.from",
            format!("{:?}", raw.from),
            "the sender's address, such as docs@example.com or \"Quire <docs@example.com>\"",
        ));
    }
    Ok(Some(MailConfig {
        host: host.to_string(),
        port,
        tls,
        credentials,
        from: from.to_string(),
        timeout: duration("mail.timeout", &raw.timeout)?,
        reset_lifetime: duration("mail.reset_lifetime", &raw.reset_lifetime)?,
    }))
}

fn is_loopback_host(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn validate_replicas(
    replicas: &[String],
    primary: &DatabaseUrl,
) -> Result<Vec<String>, ConfigError> {
    if replicas.is_empty() {
        return Ok(Vec::new());
    }
    if let DatabaseUrl::Sqlite(url) = primary {
        return Err(bad(
            "database.replicas",
            format!("{} replicas with database.url = {url}", replicas.len()),
            "PostgreSQL: replicas stream from a PostgreSQL primary",
        ));
    }
    replicas
        .iter()
        .map(
            |url| match url.starts_with("postgres://") || url.starts_with("postgresql://") {
                true => Ok(url.clone()),
                false => Err(bad(
                    "database.replicas",
                    redacted_url(url),
                    "postgres://USER@HOST:PORT/DB URLs",
                )),
            },
        )
        .collect()
}

fn validate_database_url(
    url: &str,
    data_dir: &std::path::Path,
) -> Result<DatabaseUrl, ConfigError> {
    if url.is_empty() {
        let path = data_dir.join("quire.db");
        return Ok(DatabaseUrl::Sqlite(format!("sqlite://{}", path.display())));
    }
    if url.starts_with("sqlite:") {
        Ok(DatabaseUrl::Sqlite(url.to_string()))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        // Several hosts (`HOST1:PORT,HOST2:PORT`) are followed to whichever accepts writes (store/primary.rs).
        crate::store::host_urls(url).map_err(|why| bad("database.url", redacted_url(url), &why))?;
        Ok(DatabaseUrl::Postgres(url.to_string()))
    } else {
        Err(bad(
            "database.url",
            redacted_url(url),
            "sqlite://PATH or postgres://USER@HOST:PORT/DB (empty: sqlite in storage.data_dir)",
        ))
    }
}

fn validate_auth(raw: &RawAuth, secure_cookies: bool) -> Result<AuthConfig, ConfigError> {
    let signup = match raw.signup.as_str() {
        "open" => SignupPolicy::Open,
        "invite" => SignupPolicy::Invite,
        "closed" => SignupPolicy::Closed,
        other => {
            return Err(bad(
                "auth.signup",
                other,
                "\"open\", \"invite\" or \"closed\"",
            ));
        }
    };
    let mut admins = Vec::new();
    for email in &raw.admins {
        if !email.contains('@') {
            return Err(bad("auth.admins", email, "a list of e-mail addresses"));
        }
        admins.push(email.trim().to_lowercase());
    }
    Ok(AuthConfig {
        signup,
        admins,
        session_ttl: duration("auth.session_ttl", &raw.session_ttl)?,
        login_max_failures: positive("auth.login_max_failures", raw.login_max_failures)?,
        login_window: duration("auth.login_window", &raw.login_window)?,
        secure_cookies,
        password: raw.password,
        oidc: validate_oidc_providers(&raw.oidc, raw.password)?,
    })
}

fn validate_oidc_providers(
    raw: &[RawOidcProvider],
    password: bool,
) -> Result<Vec<OidcProvider>, ConfigError> {
    if !password && raw.is_empty() {
        return Err(bad(
            "auth.password",
            "false",
            "true, unless at least one [[auth.oidc]] provider is configured (nobody could sign in)",
        ));
    }
    let mut providers: Vec<OidcProvider> = Vec::new();
    for entry in raw {
        let provider = validate_oidc(entry)?;
        if providers.iter().any(|seen| seen.id == provider.id) {
            return Err(bad(
                "auth.oidc.id",
                &provider.id,
                "an id used by one provider only",
            ));
        }
        providers.push(provider);
    }
    Ok(providers)
}

fn validate_oidc(raw: &RawOidcProvider) -> Result<OidcProvider, ConfigError> {
    let id = raw.id.trim();
    let id_ok = (1..=32).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !id_ok {
        return Err(bad(
            "auth.oidc.id",
            id,
            "1 to 32 lower-case letters, digits, - or _ (it goes in URLs)",
        ));
    }
    let key = |name: &str| format!("auth.oidc.{name} (provider {id})");
    let display_name = raw.display_name.trim();
    if display_name.is_empty() || display_name.chars().count() > 60 {
        return Err(bad(
            &key("display_name"),
            display_name,
            "a name of 1 to 60 characters for the button",
        ));
    }
    let issuer = validate_issuer(&key("issuer"), raw.issuer.trim())?;
    for (name, value) in [
        ("client_id", &raw.client_id),
        ("client_secret", &raw.client_secret),
    ] {
        if value.trim().is_empty() {
            return Err(bad(
                &key(name),
                "\"\"",
                "the value the provider gave when Quire was registered",
            ));
        }
    }
    let mut scopes: Vec<String> = Vec::new();
    for scope in &raw.scopes {
        let scope = scope.trim();
        if scope.is_empty() || scope.contains(char::is_whitespace) {
            return Err(bad(
                &key("scopes"),
                scope,
                "scope names without spaces, e.g. [\"openid\", \"email\", \"profile\"]",
            ));
        }
        if !scopes.iter().any(|seen| seen == scope) {
            scopes.push(scope.to_string());
        }
    }
    if !scopes.iter().any(|scope| scope == "openid") {
        return Err(bad(
            &key("scopes"),
            scopes.join(" "),
            "a list that includes \"openid\"",
        ));
    }
    let mut allowed_domains = Vec::new();
    for domain in &raw.allowed_domains {
        let domain = domain.trim().trim_start_matches('@').to_lowercase();
        if domain.is_empty() || !domain.contains('.') || domain.contains(['@', '/', ' ']) {
            return Err(bad(
                &key("allowed_domains"),
                &domain,
                "domains such as example.com ([] allows any)",
            ));
        }
        allowed_domains.push(domain);
    }
    Ok(OidcProvider {
        id: id.to_string(),
        display_name: display_name.to_string(),
        issuer,
        client_id: raw.client_id.trim().to_string(),
        client_secret: raw.client_secret.trim().to_string(),
        scopes,
        allowed_domains,
        create_accounts: raw.create_accounts,
    })
}

/// An https URL; plain http only on this machine (a provider on loopback, for development and tests), because the
/// ID token's keys come from it.
fn validate_issuer(key: &str, issuer: &str) -> Result<String, ConfigError> {
    let expected =
        "the provider's issuer URL, https://... (http:// only for 127.0.0.1, [::1] or localhost)";
    let rest = if let Some(rest) = issuer.strip_prefix("https://") {
        rest
    } else if let Some(rest) = issuer.strip_prefix("http://") {
        let host = rest.split('/').next().unwrap_or("");
        let host = host.rsplit_once(':').map_or(host, |(host, _port)| host);
        if !["127.0.0.1", "[::1]", "localhost"].contains(&host) {
            return Err(bad(key, issuer, expected));
        }
        rest
    } else {
        return Err(bad(key, issuer, expected));
    };
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty() || issuer.contains(['?', '#', ' ']) {
        return Err(bad(key, issuer, expected));
    }
    // Kept exactly as written: some providers' `iss` ends in a slash, and the ID token must match it to the byte.
    Ok(issuer.to_string())
}

fn validate_limits(raw: &RawLimits) -> Result<Limits, ConfigError> {
    Ok(Limits {
        max_message_bytes: positive("limits.max_message_bytes", raw.max_message_bytes)?,
        max_components: positive("limits.max_components", raw.max_components)?,
        max_doc_len: positive("limits.max_doc_len", raw.max_doc_len)?,
        max_embed_bytes: positive("limits.max_embed_bytes", raw.max_embed_bytes)?,
        max_attribute_keys: positive("limits.max_attribute_keys", raw.max_attribute_keys)?,
        max_catchup_ops: positive("limits.max_catchup_ops", raw.max_catchup_ops)?,
        max_catchup_bytes: positive("limits.max_catchup_bytes", raw.max_catchup_bytes)?,
        max_transform_ops: positive("limits.max_transform_ops", raw.max_transform_ops)?,
        ops_per_second: positive("limits.ops_per_second", raw.ops_per_second)?,
        ops_burst: positive("limits.ops_burst", raw.ops_burst)?,
        presence_per_second: positive("limits.presence_per_second", raw.presence_per_second)?,
        presence_burst: positive("limits.presence_burst", raw.presence_burst)?,
        outbound_queue: positive("limits.outbound_queue", raw.outbound_queue)?,
        max_connections_per_user: positive(
            "limits.max_connections_per_user",
            raw.max_connections_per_user,
        )?,
        idle_timeout: duration("limits.idle_timeout", &raw.idle_timeout)?,
        recheck_every: duration("limits.recheck_every", &raw.recheck_every)?,
        max_documents_per_user: positive(
            "limits.max_documents_per_user",
            raw.max_documents_per_user,
        )?,
        max_image_bytes: positive("limits.max_image_bytes", raw.max_image_bytes)?,
        image_quota_bytes: positive("limits.image_quota_bytes", raw.image_quota_bytes)?,
        max_named_versions: positive("limits.max_named_versions", raw.max_named_versions)?,
        versions_per_minute: positive("limits.versions_per_minute", raw.versions_per_minute)?,
        auth_per_minute: positive("limits.auth_per_minute", raw.auth_per_minute)?,
        imports_per_minute: positive("limits.imports_per_minute", raw.imports_per_minute)?,
        api_per_second: positive("limits.api_per_second", raw.api_per_second)?,
    })
}

/// An address (one host) or a CIDR block.
pub fn parse_net(entry: &str) -> Option<ipnet::IpNet> {
    let entry = entry.trim();
    entry.parse::<ipnet::IpNet>().ok().or_else(|| {
        entry
            .parse::<std::net::IpAddr>()
            .ok()
            .map(ipnet::IpNet::from)
    })
}

fn positive<T: TryFrom<i64>>(key: &str, value: i64) -> Result<T, ConfigError> {
    if value < 1 {
        return Err(bad(key, value, "a positive integer"));
    }
    T::try_from(value).map_err(|_| bad(key, value, "a smaller positive integer"))
}

fn coalesce_per_person(micros: u64) -> Result<Duration, ConfigError> {
    if micros > MAX_COALESCE_US_PER_PERSON {
        return Err(bad(
            "server.coalesce_us_per_person",
            micros.to_string(),
            "microseconds per person from 0 (off) to 10000",
        ));
    }
    Ok(Duration::from_micros(micros))
}

/// See `server.coalesce_us_per_person` in config.example.toml and docs/benchmarks.md for how it was chosen.
pub const DEFAULT_COALESCE_US_PER_PERSON: u64 = 100;
/// Ten thousand is six times what reaches the 25 ms bound at the 16 people a hold needs: beyond it is a typo, not tuning.
const MAX_COALESCE_US_PER_PERSON: u64 = 10_000;

/// Parses durations such as `90s`, `15m`, `12h`, `30d`.
pub fn duration(key: &str, text: &str) -> Result<Duration, ConfigError> {
    let expected = "a duration such as 90s, 15m, 12h or 30d";
    let text = text.trim();
    let split = text.len().saturating_sub(1);
    let (number, unit) = (
        text.get(..split).unwrap_or(""),
        text.get(split..).unwrap_or(""),
    );
    let count: u64 = number.parse().map_err(|_| bad(key, text, expected))?;
    let unit_secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(bad(key, text, expected)),
    };
    if count == 0 {
        return Err(bad(key, text, expected));
    }
    Ok(Duration::from_secs(count.saturating_mul(unit_secs)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hidden_in_database_urls() {
        assert_eq!(
            redacted_url("postgres://quire:s3cret@db.example:5432/quire"),
            "postgres://quire:***@db.example:5432/quire"
        );
        assert_eq!(
            redacted_url("postgres://quire@db/quire"),
            "postgres://quire@db/quire"
        );
        assert_eq!(redacted_url("sqlite://./quire.db"), "sqlite://./quire.db");
    }

    fn load_with(
        file: &str,
        env: &[(&str, &str)],
        flags: &[(&str, &str)],
    ) -> Result<Config, ConfigError> {
        load(&Sources {
            file: Some(("quire.toml".into(), file.to_string())),
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            flags: flags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        })
    }

    #[test]
    fn defaults_listen_on_loopback_with_sqlite_in_data_dir() {
        let config = load(&Sources::default()).unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.public_url, "http://127.0.0.1:8080");
        assert_eq!(
            config.database,
            DatabaseUrl::Sqlite("sqlite://./quire-data/quire.db".into())
        );
        assert_eq!(config.auth.session_ttl, Duration::from_secs(30 * 86_400));
        assert_eq!(config.limits.max_doc_len, 2_000_000);
    }

    #[test]
    fn file_then_env_then_flag_win_in_order() {
        let file = "[server]\nlisten = \"127.0.0.1:1001\"\n[auth]\nsignup = \"closed\"\n";
        let only_file = load_with(file, &[], &[]).unwrap();
        assert_eq!(only_file.listen.port(), 1001);
        let env = [("QUIRE_SERVER__LISTEN", "127.0.0.1:1002")];
        assert_eq!(load_with(file, &env, &[]).unwrap().listen.port(), 1002);
        let flags = [("server.listen", "127.0.0.1:1003")];
        let all = load_with(file, &env, &flags).unwrap();
        assert_eq!(all.listen.port(), 1003);
        assert_eq!(
            all.auth.signup,
            SignupPolicy::Closed,
            "untouched file keys stay"
        );
    }

    #[test]
    fn bad_values_name_the_key_and_what_is_allowed() {
        let err = load_with("[auth]\nsignup = \"maybe\"\n", &[], &[]).unwrap_err();
        assert_eq!(err.key, "auth.signup");
        assert_eq!(err.value, "maybe");
        assert!(err.expected.contains("invite"));
        let err = load_with("", &[("QUIRE_LIMITS__MAX_DOC_LEN", "lots")], &[]).unwrap_err();
        assert_eq!(err.key, "limits.max_doc_len");
        let err = load_with("[server]\nlisten = 8080\n", &[], &[]).unwrap_err();
        assert_eq!(err.key, "server.listen");
        let err = load_with("[server]\nlisen = \"x\"\n", &[], &[]).unwrap_err();
        assert_eq!(err.key, "server.lisen");
        let err = load_with("", &[], &[("auth.session_ttl", "forever")]).unwrap_err();
        assert_eq!(err.key, "auth.session_ttl");
        let err = load_with("[server]\ncoalesce_us_per_person = 50000\n", &[], &[]).unwrap_err();
        assert_eq!(err.key, "server.coalesce_us_per_person");
        assert!(err.expected.contains("10000"), "{}", err.expected);
        let off = load_with("[server]\ncoalesce_us_per_person = 0\n", &[], &[]).unwrap();
        assert!(off.coalesce_per_person.is_zero());
    }

    const MAIL_ON: &str = "[mail]\nenabled = true\nhost = \"smtp.example.com\"\nfrom = \"Quire <docs@example.com>\"\n";

    #[test]
    fn mail_is_off_by_default_and_on_with_a_host_and_sender() {
        assert!(load(&Sources::default()).unwrap().mail.is_none());
        let on = load_with(MAIL_ON, &[], &[]).unwrap().mail.unwrap();
        assert_eq!(
            (on.host.as_str(), on.port, on.tls),
            ("smtp.example.com", 587, MailTls::Starttls)
        );
        assert_eq!(on.credentials, None);
        assert_eq!(on.reset_lifetime, Duration::from_secs(3600));
        let env = [
            ("QUIRE_MAIL__USERNAME", "quire"),
            ("QUIRE_MAIL__PASSWORD", "s3cret"),
        ];
        let with_login = load_with(MAIL_ON, &env, &[]).unwrap().mail.unwrap();
        assert_eq!(
            with_login.credentials,
            Some(("quire".into(), "s3cret".into()))
        );
    }

    #[test]
    fn bad_mail_settings_name_the_key() {
        let key_of = |flags: &[(&str, &str)]| load_with(MAIL_ON, &[], flags).unwrap_err().key;
        assert_eq!(key_of(&[("mail.host", "")]), "mail.host");
        assert_eq!(
            key_of(&[("mail.host", "smtp.example.com:587")]),
            "mail.host"
        );
        assert_eq!(key_of(&[("mail.port", "0")]), "mail.port");
        assert_eq!(key_of(&[("mail.port", "70000")]), "mail.port");
        assert_eq!(key_of(&[("mail.tls", "ssl")]), "mail.tls");
        assert_eq!(key_of(&[("mail.from", "")]), "mail.from");
        assert_eq!(key_of(&[("mail.from", "not an address")]), "mail.from");
        assert_eq!(key_of(&[("mail.password", "s3cret")]), "mail.username");
        assert_eq!(key_of(&[("mail.username", "quire")]), "mail.password");
        assert_eq!(key_of(&[("mail.timeout", "soon")]), "mail.timeout");
        assert_eq!(
            key_of(&[("mail.reset_lifetime", "0s")]),
            "mail.reset_lifetime"
        );
        let clear = [
            ("mail.tls", "none"),
            ("mail.username", "q"),
            ("mail.password", "p"),
        ];
        let err = load_with(MAIL_ON, &[], &clear).unwrap_err();
        assert_eq!(err.key, "mail.tls");
        assert!(err.expected.contains("clear"), "{}", err.expected);
        let local = [
            ("mail.host", "127.0.0.1"),
            ("mail.tls", "none"),
            ("mail.username", "q"),
            ("mail.password", "p"),
        ];
        assert!(
            load_with(MAIL_ON, &[], &local).is_ok(),
            "a relay on this machine may take a password in the clear"
        );
        assert!(
            load_with("[mail]\nhost = \"\"\n", &[], &[]).is_ok(),
            "off: nothing is checked"
        );
    }

    #[test]
    fn env_arrays_are_comma_separated() {
        let env = [("QUIRE_AUTH__ADMINS", "Ann@Example.com, bob@example.com")];
        let config = load_with("", &env, &[]).unwrap();
        assert_eq!(config.auth.admins, ["ann@example.com", "bob@example.com"]);
    }

    const KEYCLOAK: &str = "[[auth.oidc]]\nid = \"keycloak\"\ndisplay_name = \"Company SSO\"\n\
                            issuer = \"https://sso.example.com/realms/staff\"\nclient_id = \"quire\"\n\
                            client_secret = \"s3cret\"\n";

    #[test]
    fn an_oidc_provider_gets_default_scopes_and_matches_existing_accounts_only() {
        let config = load_with(KEYCLOAK, &[], &[]).unwrap();
        let [provider] = config.auth.oidc.as_slice() else {
            panic!("one provider: {:?}", config.auth.oidc);
        };
        assert_eq!(provider.id, "keycloak");
        assert_eq!(provider.issuer, "https://sso.example.com/realms/staff");
        assert_eq!(provider.scopes, ["openid", "email", "profile"]);
        assert!(provider.allowed_domains.is_empty());
        assert!(!provider.create_accounts);
        assert!(config.auth.password, "passwords stay on by default");
        assert!(
            !format!("{provider:?}").contains("s3cret"),
            "the secret is not logged"
        );
    }

    #[test]
    fn oidc_providers_are_checked_key_by_key() {
        let with = |extra: &str| load_with(&format!("{KEYCLOAK}{extra}\n"), &[], &[]);
        let err = with("scopes = [\"email\"]").unwrap_err();
        assert!(err.key.starts_with("auth.oidc.scopes"), "{err}");
        assert!(err.expected.contains("openid"), "{err}");
        let err = with("allowed_domains = [\"not a domain\"]").unwrap_err();
        assert!(err.key.starts_with("auth.oidc.allowed_domains"), "{err}");
        let domains = with("allowed_domains = [\"@Example.COM\"]").unwrap();
        assert_eq!(domains.auth.oidc[0].allowed_domains, ["example.com"]);
        let err = with("colour = \"blue\"").unwrap_err();
        assert!(
            err.expected.contains("colour"),
            "unknown keys are named: {err}"
        );

        let replaced = |from: &str, to: &str| load_with(&KEYCLOAK.replace(from, to), &[], &[]);
        let err = replaced("keycloak", "Key Cloak").unwrap_err();
        assert_eq!(err.key, "auth.oidc.id");
        let err = replaced("s3cret", "").unwrap_err();
        assert!(err.key.starts_with("auth.oidc.client_secret"), "{err}");
        let err = replaced("https://sso.example.com", "http://sso.example.com").unwrap_err();
        assert!(err.key.starts_with("auth.oidc.issuer"), "{err}");
        assert!(err.expected.contains("https"), "{err}");
        let loopback = replaced("https://sso.example.com", "http://127.0.0.1:9000").unwrap();
        assert_eq!(
            loopback.auth.oidc[0].issuer,
            "http://127.0.0.1:9000/realms/staff"
        );
        let err = load_with(&format!("{KEYCLOAK}{KEYCLOAK}"), &[], &[]).unwrap_err();
        assert_eq!(err.key, "auth.oidc.id", "two providers with one id");
    }

    #[test]
    fn turning_passwords_off_needs_a_provider() {
        let err = load_with("[auth]\npassword = false\n", &[], &[]).unwrap_err();
        assert_eq!(err.key, "auth.password");
        assert!(err.expected.contains("[[auth.oidc]]"), "{err}");
        let file = format!("[auth]\npassword = false\n{KEYCLOAK}");
        assert!(!load_with(&file, &[], &[]).unwrap().auth.password);
    }
}
