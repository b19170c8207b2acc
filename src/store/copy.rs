//! Whole-install copies and backups: `quire db copy` moves every table from one database to another (SQLite to
//! PostgreSQL) keeping ids and revisions, and `quire backup` writes a consistent copy of a live SQLite file.
//! The copy goes table by table in key order, a page at a time, and skips rows the target already has, so an
//! interrupted copy is finished by running it again.

use sqlx::{Row, any::AnyRow};

use super::{Backend, Store, StoreError, StoreResult};

/// Every table, parents before children (foreign keys), with its primary key.
/// `oidc_logins` is left out: its rows are sign-ins in progress, useless minutes later.
pub const TABLES: [(&str, &[&str]); 18] = [
    ("users", &["id"]),
    ("sessions", &["token_hash"]),
    ("api_tokens", &["id"]),
    ("invites", &["token_hash"]),
    ("password_resets", &["token_hash"]),
    ("oidc_identities", &["issuer", "subject"]),
    ("documents", &["id"]),
    ("document_members", &["doc_id", "user_id"]),
    ("share_links", &["id"]),
    ("document_versions", &["id"]),
    ("operations", &["doc_id", "rev"]),
    ("images", &["hash"]),
    ("document_images", &["doc_id", "hash"]),
    ("comment_threads", &["id"]),
    ("comment_messages", &["id"]),
    ("comment_mentions", &["message_id", "user_id"]),
    ("notifications", &["id"]),
    ("document_authorship", &["doc_id"]),
];

/// Rows per page: with a dozen columns, far below both databases' limits on parameters.
const PAGE: usize = 500;
/// Rows per page of images: each may hold `limits.max_image_bytes`, so a page stays a few images.
const IMAGE_PAGE: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Integer,
    Text,
    Bytes,
}

#[derive(Debug, Clone)]
enum Value {
    Integer(Option<i64>),
    Text(Option<String>),
    Bytes(Option<Vec<u8>>),
}

impl Store {
    /// The number of rows in each table of `TABLES`, in that order.
    pub async fn table_counts(&self) -> StoreResult<Vec<(&'static str, i64)>> {
        let mut counts = Vec::with_capacity(TABLES.len());
        for (table, _) in TABLES {
            let sql = format!("SELECT COUNT(*) FROM {table}");
            let count: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_one(&self.pool)
                .await?;
            counts.push((table, count));
        }
        Ok(counts)
    }

    /// Copies `table` into `target`, a page at a time in key order, skipping rows `target` already has; calls
    /// `progress` with the rows read so far after each page. Returns the rows read.
    pub async fn copy_table_into(
        &self,
        target: &Store,
        table: &str,
        mut progress: impl FnMut(u64),
    ) -> StoreResult<u64> {
        let key = TABLES
            .iter()
            .find(|(name, _)| *name == table)
            .map(|(_, key)| *key)
            .ok_or_else(|| StoreError::Corrupt(format!("no table {table} to copy")))?;
        let columns = target.columns_of(table).await?;
        let names: Vec<&str> = columns.iter().map(|(name, _)| name.as_str()).collect();
        let mut after: Option<Vec<Value>> = None;
        let mut read = 0u64;
        loop {
            let rows = self.page(table, &names, key, after.as_deref()).await?;
            if rows.is_empty() {
                return Ok(read);
            }
            let values: Vec<Vec<Value>> = rows
                .iter()
                .map(|row| read_row(row, &columns))
                .collect::<StoreResult<_>>()?;
            target.insert_page(table, &names, &values).await?;
            read += values.len() as u64;
            progress(read);
            let last = values.last().expect("a page is not empty");
            after = Some(
                key.iter()
                    .map(|k| {
                        let at = names.iter().position(|name| name == k).unwrap_or(0);
                        last[at].clone()
                    })
                    .collect(),
            );
        }
    }

    /// Every document's id, trashed ones included.
    pub async fn document_ids(&self) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar("SELECT id FROM documents ORDER BY id")
            .fetch_all(&self.pool)
            .await?)
    }

    /// A consistent copy of a live SQLite database in a new file (`VACUUM INTO`: one read transaction, so writers
    /// go on meanwhile). PostgreSQL has its own tools, which the error names.
    pub async fn backup_into(&self, path: &std::path::Path) -> StoreResult<()> {
        if self.backend != Backend::Sqlite {
            return Err(StoreError::Corrupt(
                "a PostgreSQL database is backed up with its own tools: pg_dump --format=custom, or base backups \
                 with WAL archiving (see docs/postgres.md)"
                    .into(),
            ));
        }
        if path.exists() {
            return Err(StoreError::Corrupt(format!(
                "{} exists already; give a new file",
                path.display()
            )));
        }
        sqlx::query("VACUUM INTO $1")
            .bind(path.display().to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The columns of `table` here, in order, with how their values are carried.
    async fn columns_of(&self, table: &str) -> StoreResult<Vec<(String, Kind)>> {
        let rows: Vec<(String, String)> = match self.backend {
            Backend::Postgres => {
                sqlx::query_as(
                    "SELECT column_name::text, data_type::text FROM information_schema.columns \
                     WHERE table_name = $1 AND table_schema = current_schema() ORDER BY ordinal_position",
                )
                .bind(table)
                .fetch_all(&self.pool)
                .await?
            }
            Backend::Sqlite => {
                sqlx::query_as("SELECT name, type FROM pragma_table_info($1) ORDER BY cid")
                    .bind(table)
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.into_iter()
            .map(|(name, kind)| {
                let kind = match kind.to_lowercase().as_str() {
                    "bigint" | "integer" => Kind::Integer,
                    "text" => Kind::Text,
                    "blob" | "bytea" => Kind::Bytes,
                    other => {
                        return Err(StoreError::Corrupt(format!(
                            "{table}.{name} has type {other}, which the copy does not carry"
                        )));
                    }
                };
                Ok((name, kind))
            })
            .collect()
    }

    async fn page(
        &self,
        table: &str,
        names: &[&str],
        key: &[&str],
        after: Option<&[Value]>,
    ) -> StoreResult<Vec<AnyRow>> {
        let key_list = key.join(", ");
        let filter = match after {
            None => String::new(),
            Some(_) if key.len() == 1 => format!("WHERE {} > $1", key[0]),
            Some(_) => {
                let params: Vec<String> = (1..=key.len()).map(|n| format!("${n}")).collect();
                format!("WHERE ({key_list}) > ({})", params.join(", "))
            }
        };
        let sql = format!(
            "SELECT {} FROM {table} {filter} ORDER BY {key_list} LIMIT {}",
            names.join(", "),
            if table == "images" { IMAGE_PAGE } else { PAGE }
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for value in after.unwrap_or_default() {
            query = bind(query, value);
        }
        Ok(query.fetch_all(&self.pool).await?)
    }

    async fn insert_page(
        &self,
        table: &str,
        names: &[&str],
        rows: &[Vec<Value>],
    ) -> StoreResult<()> {
        let width = names.len();
        let tuples: Vec<String> = (0..rows.len())
            .map(|row| {
                let params: Vec<String> = (1..=width)
                    .map(|col| format!("${}", row * width + col))
                    .collect();
                format!("({})", params.join(", "))
            })
            .collect();
        let sql = format!(
            "INSERT INTO {table} ({}) VALUES {} ON CONFLICT DO NOTHING",
            names.join(", "),
            tuples.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for value in rows.iter().flatten() {
            query = bind(query, value);
        }
        query.execute(&self.pool).await?;
        Ok(())
    }
}

fn read_row(row: &AnyRow, columns: &[(String, Kind)]) -> StoreResult<Vec<Value>> {
    columns
        .iter()
        .map(|(name, kind)| {
            Ok(match kind {
                Kind::Integer => Value::Integer(row.try_get::<Option<i64>, _>(name.as_str())?),
                Kind::Text => Value::Text(row.try_get::<Option<String>, _>(name.as_str())?),
                Kind::Bytes => Value::Bytes(row.try_get::<Option<Vec<u8>>, _>(name.as_str())?),
            })
        })
        .collect()
}

fn bind<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    value: &Value,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    match value {
        Value::Integer(value) => query.bind(*value),
        Value::Text(value) => query.bind(value.clone()),
        Value::Bytes(value) => query.bind(value.clone()),
    }
}
