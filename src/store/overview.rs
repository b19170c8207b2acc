//! What the admin page reads about the whole server: a search over every account, and the counts and size of
//! the database.

use sqlx::Row;

use super::{
    Backend, Store, StoreResult,
    accounts::{USER_COLUMNS, User, user_from_row},
};

impl Store {
    /// Accounts whose e-mail or name contains `query` (case-insensitive; `%`, `_` and `\` match themselves), oldest
    /// first, `limit` of them from `offset`. An empty query lists everyone.
    pub async fn search_users(
        &self,
        query: &str,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Vec<User>> {
        let pattern = format!("%{}%", like_escaped(&query.to_lowercase()));
        // lower() on both sides: e-mails are stored lower-cased, names as typed.
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users \
             WHERE lower(email) LIKE $1 ESCAPE '\\' OR lower(name) LIKE $2 ESCAPE '\\' \
             ORDER BY created_at, email LIMIT $3 OFFSET $4"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&pattern)
            .bind(&pattern)
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(user_from_row).collect()
    }

    pub async fn count_users(&self) -> StoreResult<i64> {
        self.count("SELECT COUNT(*) AS n FROM users").await
    }

    /// Every document, those in a trash included: they still take room until deleted.
    pub async fn count_documents(&self) -> StoreResult<i64> {
        self.count("SELECT COUNT(*) AS n FROM documents").await
    }

    /// The database's size in bytes as the database reports it (SQLite's main file without its WAL).
    pub async fn database_bytes(&self) -> StoreResult<i64> {
        let sql = match self.backend {
            Backend::Sqlite => {
                "SELECT page_count * page_size AS n FROM pragma_page_count(), pragma_page_size()"
            }
            Backend::Postgres => "SELECT pg_database_size(current_database()) AS n",
        };
        self.count(sql).await
    }

    async fn count(&self, sql: &'static str) -> StoreResult<i64> {
        let row = sqlx::query(sql).fetch_one(&self.pool).await?;
        Ok(row.try_get::<i64, _>("n")?)
    }
}

/// `text` for a LIKE pattern with `ESCAPE '\'`: its wildcards and escape character stand for themselves.
fn like_escaped(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::like_escaped;

    #[test]
    fn wildcards_and_the_escape_character_are_escaped() {
        assert_eq!(like_escaped("a%b_c\\d"), "a\\%b\\_c\\\\d");
        assert_eq!(like_escaped("plain"), "plain");
    }
}
