//! Comment requests between the nodes of a cluster: a comment made through a node that does not run the document's
//! hub is asked of the owner, as named versions and restores are (`peers.rs`); the owner answers with the change
//! or the refusal, which this file turns to and from the JSON the peer channel carries.

use serde_json::{Value, json};

use super::comments::{Actor, CommentDone, CommentError, EVENTS};
use crate::{
    protocol::{ErrorCode, MessageWire, ThreadWire},
    store::Role,
};

/// The asker's id and role, as checked on the node the request reached.
pub(super) fn actor(user: String, role: &str) -> Option<Actor> {
    Role::parse(role).map(|role| Actor {
        user_id: user,
        role,
    })
}

/// The owner's answer to a comment action: the change, or the refusal with its code.
pub(super) fn encode_done(result: Result<CommentDone, CommentError>) -> Value {
    match result {
        Ok(done) => json!({"done": {
            "event": done.event, "rev": done.rev, "thread": done.thread, "message": done.message,
        }}),
        Err(err) => refused(err),
    }
}

pub(super) fn encode_listing(result: Result<(u64, Vec<ThreadWire>), CommentError>) -> Value {
    match result {
        Ok((rev, threads)) => json!({"listing": {"rev": rev, "threads": threads}}),
        Err(err) => refused(err),
    }
}

fn refused(err: CommentError) -> Value {
    json!({"refused": {"code": err.code.as_str(), "msg": err.msg}})
}

pub(super) fn decode_done(answer: Result<Value, String>) -> Result<CommentDone, CommentError> {
    let done = decode(answer, "done")?;
    let event = done["event"]
        .as_str()
        .and_then(|name| EVENTS.into_iter().find(|known| *known == name));
    let thread = serde_json::from_value::<ThreadWire>(done["thread"].clone()).ok();
    let message = serde_json::from_value::<Option<MessageWire>>(done["message"].clone()).ok();
    match (event, done["rev"].as_u64(), thread, message) {
        (Some(event), Some(rev), Some(thread), Some(message)) => Ok(CommentDone {
            event,
            rev,
            thread,
            message,
            // The owner's node told them already.
            notified: Vec::new(),
        }),
        _ => Err(malformed()),
    }
}

pub(super) fn decode_listing(
    answer: Result<Value, String>,
) -> Result<(u64, Vec<ThreadWire>), CommentError> {
    let listing = decode(answer, "listing")?;
    let threads = serde_json::from_value::<Vec<ThreadWire>>(listing["threads"].clone());
    match (listing["rev"].as_u64(), threads) {
        (Some(rev), Ok(threads)) => Ok((rev, threads)),
        _ => Err(malformed()),
    }
}

/// The answer's `key` part, or the owner's refusal, or why no answer came.
fn decode(answer: Result<Value, String>, key: &str) -> Result<Value, CommentError> {
    let mut answer = answer.map_err(|msg| CommentError {
        code: ErrorCode::Internal,
        msg,
    })?;
    if let Some(refused) = answer.get("refused") {
        return Err(CommentError {
            code: refused["code"]
                .as_str()
                .and_then(ErrorCode::parse)
                .unwrap_or(ErrorCode::Internal),
            msg: refused["msg"].as_str().unwrap_or("refused").to_string(),
        });
    }
    answer.get_mut(key).map(Value::take).ok_or_else(malformed)
}

fn malformed() -> CommentError {
    CommentError {
        code: ErrorCode::Internal,
        msg: "a malformed answer from the document's node".into(),
    }
}
