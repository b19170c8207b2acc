//! `quire db copy` (an install from one database to another, e.g. SQLite to PostgreSQL, checked afterwards) and
//! `quire backup` (a consistent copy of a live SQLite file).

use std::{io::Write, path::Path};

use anyhow::{Context, bail};

use super::DbCommand;
use crate::{
    config::{Config, DatabaseUrl},
    hub,
    store::Store,
};

pub async fn db(config: &Config, command: DbCommand) -> anyhow::Result<()> {
    match command {
        DbCommand::Copy { from, to, resume } => {
            let from = database_url(&from, true)?;
            let to = database_url(&to, false)?;
            copy(config, &from, &to, resume).await
        }
    }
}

pub async fn backup(config: &Config, path: &Path) -> anyhow::Result<()> {
    let store = super::open_store(config).await?;
    let res = store.backup_into(path).await;
    store.close().await;
    res.with_context(|| format!("cannot back up to {}", path.display()))?;
    println!("backed up to {}", path.display());
    Ok(())
}

/// `sqlite:PATH` (or `sqlite://PATH`) and `postgres://...`, as in `database.url`. A source SQLite file must exist
/// (opening one creates it, and a typo would copy an empty install).
fn database_url(text: &str, must_exist: bool) -> anyhow::Result<DatabaseUrl> {
    if text.starts_with("postgres://") || text.starts_with("postgresql://") {
        return Ok(DatabaseUrl::Postgres(text.to_string()));
    }
    let Some(path) = text
        .strip_prefix("sqlite://")
        .or_else(|| text.strip_prefix("sqlite:"))
    else {
        bail!("{text}: expected sqlite:PATH or postgres://USER@HOST:PORT/DB");
    };
    if must_exist && !Path::new(path).exists() {
        bail!("{path}: no such file");
    }
    Ok(DatabaseUrl::Sqlite(format!("sqlite://{path}")))
}

async fn copy(
    config: &Config,
    from: &DatabaseUrl,
    to: &DatabaseUrl,
    resume: bool,
) -> anyhow::Result<()> {
    let source = Store::open(from, 4, config.sync)
        .await
        .context("cannot open the source")?;
    let target = Store::open(to, 4, config.sync)
        .await
        .context("cannot open the target")?;
    let res = copy_between(&source, &target, resume).await;
    source.close().await;
    target.close().await;
    res
}

async fn copy_between(source: &Store, target: &Store, resume: bool) -> anyhow::Result<()> {
    let in_target: i64 = target.table_counts().await?.iter().map(|(_, n)| n).sum();
    if in_target > 0 && !resume {
        bail!(
            "the target already holds {in_target} rows; copy into an empty database, or add --resume to finish an \
             interrupted copy"
        );
    }
    let totals = source.table_counts().await?;
    for (table, total) in &totals {
        let copied = source
            .copy_table_into(target, table, |read| {
                print!("\r{table}: {read} of {total} rows");
                let _ = std::io::stdout().flush();
            })
            .await
            .with_context(|| format!("copying {table}"))?;
        println!("\r{table}: {copied} of {total} rows");
    }
    verify(source, target, &totals).await
}

/// Every table has as many rows in the target as in the source, and every document's content at its head is the
/// same in both.
async fn verify(source: &Store, target: &Store, totals: &[(&str, i64)]) -> anyhow::Result<()> {
    let copied = target.table_counts().await?;
    for ((table, expected), (_, got)) in totals.iter().zip(&copied) {
        if expected != got {
            bail!("{table}: {got} rows in the target, {expected} in the source");
        }
    }
    let ids = source.document_ids().await?;
    for (n, id) in ids.iter().enumerate() {
        let before = hub::load_content(source, id).await?;
        let after = hub::load_content(target, id).await?;
        if before != after {
            bail!("document {id}: its content in the target differs from the source");
        }
        print!("\rchecked {} of {} documents", n + 1, ids.len());
        let _ = std::io::stdout().flush();
    }
    println!(
        "\rchecked {0} of {0} documents: the copy is complete",
        ids.len()
    );
    Ok(())
}
