//! The WebSocket's comment messages (docs/protocol-notes.md): each becomes the hub's `CommentAction` with the `ref`
//! the client attached, which is checked here and echoed back by the hub.

use crate::{
    hub::CommentAction,
    protocol::{ClientMsg, MAX_COMMENT_REF_CHARS},
};

/// Comment messages each connection may send per second, and in a burst.
pub const COMMENTS_PER_SECOND: u32 = 5;
pub const COMMENTS_BURST: u32 = 20;

/// The client's `ref` and the action a comment message asks for; `None` for any other message.
pub fn comment_action(msg: ClientMsg) -> Option<(Option<String>, CommentAction)> {
    Some(match msg {
        ClientMsg::CommentNew(new) => (
            new.reference,
            CommentAction::New {
                rev: Some(new.rev),
                start: new.start,
                end: new.end,
                body: new.body,
                mentions: new.mentions,
            },
        ),
        ClientMsg::CommentReply(reply) => (
            reply.reference,
            CommentAction::Reply {
                thread: reply.thread,
                body: reply.body,
                mentions: reply.mentions,
            },
        ),
        ClientMsg::CommentEdit(edit) => (
            edit.reference,
            CommentAction::Edit {
                message: edit.message,
                body: edit.body,
                mentions: edit.mentions,
            },
        ),
        ClientMsg::CommentDelete(delete) => (
            delete.reference,
            CommentAction::Delete {
                message: delete.message,
            },
        ),
        ClientMsg::CommentResolve(thread) => (
            thread.reference,
            CommentAction::Resolve {
                thread: thread.thread,
            },
        ),
        ClientMsg::CommentReopen(thread) => (
            thread.reference,
            CommentAction::Reopen {
                thread: thread.thread,
            },
        ),
        _ => return None,
    })
}

/// A `ref` is echoed in frames to its sender, so its size is bounded.
pub fn ref_is_valid(reference: Option<&str>) -> bool {
    reference.is_none_or(|text| text.chars().count() <= MAX_COMMENT_REF_CHARS)
}
