//! The e-mail a mention sends (`[mail]` on): "NAME mentioned you in TITLE" with the start of the message and a
//! link to its thread, to each person a stored comment message newly mentioned. The hub calls this through its
//! mention hook after the message is stored; the mail goes in the background and a failure is only logged.

use std::sync::Arc;

use super::AppState;
use crate::{
    hub::MentionNotice,
    mail::{Mailer, MentionedYou},
    store::{Store, StoreResult},
};

/// The characters of a message quoted in the mail and in the notifications list.
pub const EXCERPT_CHARS: usize = 200;

/// The start of a message body, cut on a character boundary, with "…" when cut.
pub fn excerpt(body: &str) -> String {
    let mut chars = body.trim().chars();
    let cut: String = chars.by_ref().take(EXCERPT_CHARS).collect();
    if chars.next().is_some() {
        format!("{cut}…")
    } else {
        cut
    }
}

/// What the mail needs; not the whole state, which holds the hubs (that would be a cycle through the hook).
#[derive(Clone)]
struct Sender {
    store: Store,
    mailer: Arc<Mailer>,
    public_url: String,
}

/// Installs the hook on the hubs, when e-mail is on.
pub(super) fn install(state: &AppState) {
    if !state.mailer.is_on() {
        return;
    }
    let sender = Sender {
        store: state.store.clone(),
        mailer: state.mailer.clone(),
        public_url: state.config.public_url.clone(),
    };
    state.hubs.on_mention(Arc::new(move |notice| {
        let sender = sender.clone();
        tokio::spawn(async move {
            if let Err(err) = sender.send(notice).await {
                tracing::warn!(%err, "cannot prepare the e-mail of a mention");
            }
        });
    }));
}

impl Sender {
    async fn send(&self, notice: MentionNotice) -> StoreResult<()> {
        let store = &self.store;
        let Some(doc) = store.document(&notice.doc_id).await? else {
            return Ok(());
        };
        let author = match store.user_by_id(&notice.author_id).await? {
            Some(user) => user.name,
            None => "Someone".into(),
        };
        let link = format!(
            "{}/d/{}#comment-{}",
            self.public_url, notice.doc_id, notice.thread_id
        );
        for recipient in &notice.recipients {
            let Some(person) = store.user_by_id(recipient).await? else {
                continue;
            };
            if person.guest {
                continue;
            }
            let text = MentionedYou {
                author: author.clone(),
                document: doc.title.clone(),
                excerpt: excerpt(&notice.body),
                link: link.clone(),
            };
            self.mailer.send_in_background(person.email, text);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_excerpt_is_cut_on_a_character_boundary_and_says_so() {
        assert_eq!(excerpt("  short one \n"), "short one");
        let long = "é😀".repeat(150);
        let cut = excerpt(&long);
        assert_eq!(cut.chars().count(), EXCERPT_CHARS + 1);
        assert!(cut.ends_with("é😀…"), "{cut}");
        let exact = "x".repeat(EXCERPT_CHARS);
        assert_eq!(excerpt(&exact), exact);
    }
}
