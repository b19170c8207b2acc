//! The version history page (`/d/{id}/history`): the list of versions with their dates and authors, a read-only
//! preview of one with its formatting, what changed since the previous version (insertions and deletions
//! highlighted), and restoring it (confirmed in the browser by assets/pages.js, announced by the editor).

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Form, Router,
    extract::{Path, Query, State},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde::Deserialize;
use similar::{ChangeTag, TextDiff};

use super::{
    AppState, assets,
    dashboard::form_action,
    dates::{Moment, relative_time},
    docs_api,
    error::{ApiError, PageError},
    history_api::{self, version_content},
    pages::CsrfForm,
    reads::WrittenAt,
    session::PageCaller,
};
use crate::{convert, ot::Delta, store::VersionMeta};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/d/{id}/history", get(history))
        .route("/d/{id}/history/{version}/restore", post(restore))
}

struct VersionRow {
    id: String,
    name: Option<String>,
    when: String,
    at: Moment,
    kind: &'static str,
    size: i64,
    contributors: String,
    selected: bool,
}

/// A run of text in the preview: "same", "insert" or "delete".
struct Piece {
    kind: &'static str,
    text: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "history.html")]
struct HistoryPage {
    csrf: String,
    pages_script: String,
    user_name: String,
    user_email: String,
    /// Whether the header links to the admin page.
    is_admin: bool,
    doc_id: String,
    title: String,
    every: u64,
    versions: Vec<VersionRow>,
    selected_id: String,
    show_changes: bool,
    can_restore: bool,
    /// What the restore form asks before it is sent.
    restore_question: String,
    preview: Preview,
}

/// The selected version as the page shows it.
enum Preview {
    /// The version's own HTML (escaped by the exporter), formatted as in the editor.
    Formatted(String),
    /// A word diff against the previous version, line by line.
    Changes(Vec<Vec<Piece>>),
}

#[derive(Debug, Deserialize)]
struct HistoryQuery {
    v: Option<String>,
    changes: Option<String>,
}

async fn history(
    State(state): State<AppState>,
    caller: PageCaller,
    Path(id): Path<String>,
    Query(query): Query<HistoryQuery>,
    axum::Extension(written): axum::Extension<WrittenAt>,
) -> Result<Response, PageError> {
    let Some(authed) = caller.authed else {
        return Ok(Redirect::to(&format!("/login?next=/d/{id}/history")).into_response());
    };
    let (doc, role) = docs_api::visible_document(&state, &authed.user, &id)
        .await?
        .ok_or_else(PageError::not_found)?;
    let versions = super::reads::lagging(&state, written, |store| {
        let id = id.clone();
        async move { store.versions(&id).await }
    })
    .await?;
    let selected = query
        .v
        .as_deref()
        .and_then(|v| versions.iter().position(|version| version.id == v))
        .unwrap_or(0);
    let show_changes = query.changes.is_some();
    let preview = match versions.get(selected) {
        Some(version) => {
            preview(
                &state,
                written,
                &id,
                version,
                versions.get(selected + 1),
                show_changes,
            )
            .await?
        }
        None => Preview::Changes(Vec::new()),
    };
    let mut rows = Vec::new();
    let now = crate::store::now_ms();
    for (idx, version) in versions.iter().enumerate() {
        rows.push(VersionRow {
            id: version.id.clone(),
            name: version.name.clone(),
            when: relative_time(now - version.created_at),
            at: Moment::from_unix_ms(version.created_at),
            kind: kind_label(&version.kind),
            size: version.size,
            contributors: contributor_names(&state, version).await?,
            selected: idx == selected,
        });
    }
    Ok(HistoryPage {
        csrf: caller.csrf.0,
        pages_script: assets::version("pages.js"),
        is_admin: super::accounts::is_admin(&state, &authed.user),
        user_name: authed.user.name,
        user_email: authed.user.email,
        doc_id: doc.id,
        title: doc.title,
        every: state.config.history.compact_every_ops,
        selected_id: versions
            .get(selected)
            .map(|version| version.id.clone())
            .unwrap_or_default(),
        restore_question: versions
            .get(selected)
            .map(restore_question)
            .unwrap_or_default(),
        versions: rows,
        show_changes,
        can_restore: role.can_edit(),
        preview,
    }
    .into_response())
}

fn kind_label(kind: &str) -> &'static str {
    match kind {
        "named" => "Named version",
        "restore" => "Restored",
        "import" => "Imported",
        _ => "Saved automatically",
    }
}

/// "Restore “First draft”?" or, for an unnamed version, its date; what happens to today's text is said too,
/// since that is what a person hesitating wants to know.
fn restore_question(version: &VersionMeta) -> String {
    let which = match &version.name {
        Some(name) => format!("“{name}”"),
        None => format!(
            "the version from {}",
            Moment::from_unix_ms(version.created_at).text
        ),
    };
    format!(
        "Restore {which}? Everyone editing sees the document change; the current text stays in the history."
    )
}

async fn contributor_names(state: &AppState, version: &VersionMeta) -> Result<String, PageError> {
    let mut names = Vec::new();
    for id in &version.contributors {
        if let Some(user) = state.store.user_by_id(id).await? {
            names.push(user.name);
        }
    }
    Ok(names.join(", "))
}

/// The version formatted; with `changes`, a word diff of its text against the previous version's.
async fn preview(
    state: &AppState,
    written: WrittenAt,
    doc_id: &str,
    version: &VersionMeta,
    previous: Option<&VersionMeta>,
    changes: bool,
) -> Result<Preview, PageError> {
    // What the version reads as, without its pending suggestions, as in every export.
    let delta =
        convert::without_suggestions(&version_delta(state, written, doc_id, &version.id).await?);
    if !changes {
        return Ok(Preview::Formatted(convert::html_fragment(&delta)));
    }
    let old = match previous {
        Some(previous) => convert::without_suggestions(
            &version_delta(state, written, doc_id, &previous.id).await?,
        )
        .text(),
        None => "\n".to_string(),
    };
    Ok(Preview::Changes(diff_lines(&old, &delta.text())))
}

async fn version_delta(
    state: &AppState,
    written: WrittenAt,
    doc_id: &str,
    version_id: &str,
) -> Result<Delta, PageError> {
    let (_, delta) = version_content(state, doc_id, version_id, written)
        .await
        .map_err(|err: ApiError| PageError::new(err.status, err.message))?;
    Ok(delta)
}

/// Splits a word diff into lines of pieces, so the preview keeps paragraphs.
fn diff_lines(old: &str, new: &str) -> Vec<Vec<Piece>> {
    let diff = TextDiff::from_words(old, new);
    let mut lines: Vec<Vec<Piece>> = vec![Vec::new()];
    for change in diff.iter_all_changes() {
        let kind = match change.tag() {
            ChangeTag::Equal => "same",
            ChangeTag::Insert => "insert",
            ChangeTag::Delete => "delete",
        };
        let value = change.value();
        let mut parts = value.split('\n').peekable();
        while let Some(part) = parts.next() {
            if let Some(line) = lines.last_mut()
                && !part.is_empty()
            {
                // Neighbouring words of the same kind read as one highlighted run.
                match line.last_mut() {
                    Some(last) if last.kind == kind => last.text.push_str(part),
                    _ => line.push(Piece {
                        kind,
                        text: part.to_string(),
                    }),
                }
            }
            if parts.peek().is_some() {
                lines.push(Vec::new());
            }
        }
    }
    while lines.last().is_some_and(Vec::is_empty) && lines.len() > 1 {
        lines.pop();
    }
    lines
}

async fn restore(
    State(state): State<AppState>,
    caller: PageCaller,
    Path((id, version)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Response {
    // The editor says "Restored" when it opens with this query (web/src/ui/restored-notice.js).
    let back_to = format!("/d/{id}?restored=1");
    form_action(caller, &form.csrf, &back_to, |authed| async move {
        history_api::restore_version(&state, &authed.user, &id, &version)
            .await
            .map(|_| ())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_diff_keeps_lines_and_marks_changes() {
        let lines = diff_lines(
            "Hello old world\nsecond\n",
            "Hello new world\nsecond\nthird\n",
        );
        let rendered: Vec<String> = lines
            .iter()
            .map(|line| {
                line.iter()
                    .map(|p| format!("{}:{}", p.kind, p.text))
                    .collect::<Vec<_>>()
                    .join("|")
            })
            .collect();
        assert_eq!(rendered[0], "same:Hello |delete:old|insert:new|same: world");
        assert_eq!(rendered[1], "same:second");
        assert_eq!(rendered[2], "insert:third");
    }
}
