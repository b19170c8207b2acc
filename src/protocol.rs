//! The WebSocket wire format of PROTOCOL.md v1: client and server messages, error codes and the limits
//! announced in `welcome`. Only this module (and `ot`'s documented Delta JSON) defines what goes on the wire.

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub const PROTOCOL_VERSION: u64 = 1;

/// A message from a client. Unknown `t`, unknown fields or wrong types are `bad_message`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "t", rename_all = "lowercase")]
pub enum ClientMsg {
    Hello(Hello),
    Op(OpMsg),
    Presence(PresenceMsg),
    Ping(Ping),
    #[serde(rename = "comment_new")]
    CommentNew(CommentNewMsg),
    #[serde(rename = "comment_reply")]
    CommentReply(CommentThreadBody),
    #[serde(rename = "comment_edit")]
    CommentEdit(CommentMessageBody),
    #[serde(rename = "comment_delete")]
    CommentDelete(CommentMessageRef),
    #[serde(rename = "comment_resolve")]
    CommentResolve(CommentThreadRef),
    #[serde(rename = "comment_reopen")]
    CommentReopen(CommentThreadRef),
    /// Who wrote what (docs/protocol-notes.md, "Authorship").
    Authors(AuthorsMsg),
}

/// `authors`: asks for the `authors` frame.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthorsMsg {}

/// `comment_new`: open a thread on `[start, end)` of the document at `rev` (docs/protocol-notes.md).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommentNewMsg {
    #[serde(default, rename = "ref")]
    pub reference: Option<String>,
    pub rev: u64,
    pub start: u64,
    pub end: u64,
    pub body: String,
    /// The user ids the body mentions (docs/protocol-notes.md, Mentions).
    #[serde(default)]
    pub mentions: Vec<String>,
}

/// `comment_reply`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommentThreadBody {
    #[serde(default, rename = "ref")]
    pub reference: Option<String>,
    pub thread: String,
    pub body: String,
    /// The user ids the body mentions (docs/protocol-notes.md, Mentions).
    #[serde(default)]
    pub mentions: Vec<String>,
}

/// `comment_edit`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommentMessageBody {
    #[serde(default, rename = "ref")]
    pub reference: Option<String>,
    pub message: String,
    pub body: String,
    /// The user ids the body mentions (docs/protocol-notes.md, Mentions).
    #[serde(default)]
    pub mentions: Vec<String>,
}

/// `comment_delete`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommentMessageRef {
    #[serde(default, rename = "ref")]
    pub reference: Option<String>,
    pub message: String,
}

/// `comment_resolve` and `comment_reopen`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommentThreadRef {
    #[serde(default, rename = "ref")]
    pub reference: Option<String>,
    pub thread: String,
}

/// The longest `ref` a client may attach to a comment message; it is echoed back.
pub const MAX_COMMENT_REF_CHARS: usize = 64;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hello {
    pub proto: u64,
    pub client: String,
    pub rev: Option<u64>,
    #[serde(default)]
    pub user: Option<HelloUser>,
    /// A Quire addition: `true` asks for the `comments` frame after the join and the `comment` events.
    #[serde(default)]
    pub comments: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HelloUser {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub color: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpMsg {
    pub rev: u64,
    pub seq: u64,
    /// Validated by `ot::decode_change`, so that a bad op is `bad_op`, not `bad_message`.
    pub op: Value,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresenceMsg {
    pub rev: u64,
    pub sel: Option<Selection>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ping {
    #[serde(default)]
    pub id: Option<Value>,
}

/// A selection in UTF-16 code units; `length` 0 is a caret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Selection {
    pub index: u64,
    pub length: u64,
}

/// Who a message is about, as other people see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserInfo {
    pub id: String,
    pub name: String,
    pub color: String,
}

/// Every error code of PROTOCOL.md "Errors"; the string of a code never changes meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    BadMessage,
    UnsupportedProto,
    Unauthorized,
    Forbidden,
    BadOp,
    TooLarge,
    RevInFuture,
    RevTooOld,
    StaleSeq,
    RateLimited,
    Internal,
    /// A comment message that cannot be applied: empty body, bad anchor, over a count limit.
    BadComment,
    /// No such comment thread or message in this document.
    NotFound,
    /// The server does not offer this (authorship turned off).
    Unavailable,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadMessage => "bad_message",
            ErrorCode::UnsupportedProto => "unsupported_proto",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::BadOp => "bad_op",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::RevInFuture => "rev_in_future",
            ErrorCode::RevTooOld => "rev_too_old",
            ErrorCode::StaleSeq => "stale_seq",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Internal => "internal",
            ErrorCode::BadComment => "bad_comment",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Unavailable => "unavailable",
        }
    }

    /// Whether the server closes the socket after sending this error.
    pub fn is_fatal(self) -> bool {
        matches!(
            self,
            ErrorCode::BadMessage | ErrorCode::UnsupportedProto | ErrorCode::Unauthorized
        )
    }

    /// The code named `code` (the inverse of `as_str`).
    pub fn parse(code: &str) -> Option<ErrorCode> {
        ALL_CODES.into_iter().find(|known| known.as_str() == code)
    }

    pub fn from_wire(code: &str) -> ErrorCode {
        match code {
            "too_large" => ErrorCode::TooLarge,
            _ => ErrorCode::BadOp,
        }
    }
}

const ALL_CODES: [ErrorCode; 14] = [
    ErrorCode::BadMessage,
    ErrorCode::UnsupportedProto,
    ErrorCode::Unauthorized,
    ErrorCode::Forbidden,
    ErrorCode::BadOp,
    ErrorCode::TooLarge,
    ErrorCode::RevInFuture,
    ErrorCode::RevTooOld,
    ErrorCode::StaleSeq,
    ErrorCode::RateLimited,
    ErrorCode::Internal,
    ErrorCode::BadComment,
    ErrorCode::NotFound,
    ErrorCode::Unavailable,
];

/// An `error` frame.
pub fn error_frame(code: ErrorCode, msg: &str, seq: Option<u64>) -> String {
    let mut frame = serde_json::json!({"t": "error", "code": code.as_str(), "msg": msg, "fatal": code.is_fatal()});
    if let Some(seq) = seq {
        frame["seq"] = seq.into();
    }
    frame.to_string()
}

pub fn ack_frame(seq: u64, rev: u64, dup: bool) -> String {
    if dup {
        serde_json::json!({"t": "ack", "seq": seq, "rev": rev, "dup": true}).to_string()
    } else {
        serde_json::json!({"t": "ack", "seq": seq, "rev": rev}).to_string()
    }
}

/// Not in PROTOCOL.md v1 (an addition clients may ignore): the connection's role changed while it was open;
/// `None` (`"role": null`) says the person has lost access, and the socket closes right after it.
pub fn role_frame(role: Option<&str>) -> String {
    serde_json::json!({"t": "role", "role": role}).to_string()
}

/// This node does not own the document: connect to `url` (an absolute ws(s) URL carrying a ticket) instead.
pub fn redirect_frame(url: &str) -> String {
    serde_json::json!({"t": "redirect", "url": url}).to_string()
}

pub fn pong_frame(id: Option<Value>) -> String {
    match id {
        Some(id) => serde_json::json!({"t": "pong", "id": id}).to_string(),
        None => serde_json::json!({"t": "pong"}).to_string(),
    }
}

/// A committed op as broadcast; `op_json` is the canonical Delta JSON, spliced in without re-parsing.
/// `user_json` is the author as JSON text (serialized once per session, not once per op).
pub fn op_frame(rev: u64, op_json: &str, client: &str, seq: u64, user_json: &str) -> String {
    let client = Value::from(client);
    format!(
        r#"{{"t":"op","rev":{rev},"op":{op_json},"client":{client},"seq":{seq},"user":{user_json}}}"#
    )
}

pub fn presence_frame(client: &str, user: &UserInfo, rev: u64, sel: Option<Selection>) -> String {
    serde_json::json!({"t": "presence", "client": client, "user": user, "rev": rev, "sel": sel})
        .to_string()
}

/// Who a comment or message is by, or who resolved a thread (`id: null`: the account was deleted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonRef {
    pub id: Option<String>,
    pub name: Option<String>,
}

/// A comment thread as clients see it, its anchor `[start, end)` at the revision of the frame that carries it.
/// (Deserialize: a node of a cluster reads it back from the document's owner, see `hub/peers.rs`.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadWire {
    pub id: String,
    pub author: PersonRef,
    pub start: u64,
    pub end: u64,
    pub quote: String,
    pub orphaned: bool,
    pub resolved: bool,
    pub resolved_by: Option<PersonRef>,
    pub resolved_at: Option<i64>,
    pub created_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messages: Option<Vec<MessageWire>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageWire {
    pub id: String,
    pub author: PersonRef,
    pub body: String,
    pub created_at: i64,
    pub edited_at: Option<i64>,
    pub deleted: bool,
    /// Who the message mentions, in its order (`[]` when nobody).
    #[serde(default)]
    pub mentions: Vec<MentionWire>,
}

/// A person a message mentions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MentionWire {
    pub id: String,
    pub name: String,
}

/// Every thread of the document, with messages, anchors at `rev` (sent after `welcome` to clients that asked).
pub fn comments_frame(rev: u64, threads: &[ThreadWire]) -> String {
    serde_json::json!({"t": "comments", "rev": rev, "threads": threads}).to_string()
}

/// One change to a thread; `reference` is the `ref` of the client message that caused it, for its sender only.
pub fn comment_frame(
    event: &str,
    rev: u64,
    thread: &ThreadWire,
    message: Option<&MessageWire>,
    reference: Option<&str>,
) -> String {
    let mut frame = serde_json::json!({"t": "comment", "event": event, "rev": rev, "thread": thread, "message": message});
    if let Some(reference) = reference {
        frame["ref"] = reference.into();
    }
    frame.to_string()
}

/// An `error` about a comment message, carrying its `ref`.
/// The `authors` frame: the hub's `{rev, spans, people}` with its type.
pub fn authors_frame(answer: &Value) -> String {
    let mut frame = answer.clone();
    if let Some(object) = frame.as_object_mut() {
        object.insert("t".into(), Value::from("authors"));
    }
    frame.to_string()
}

pub fn comment_error_frame(code: ErrorCode, msg: &str, reference: Option<&str>) -> String {
    let mut frame =
        serde_json::json!({"t": "error", "code": code.as_str(), "msg": msg, "fatal": false});
    if let Some(reference) = reference {
        frame["ref"] = reference.into();
    }
    frame.to_string()
}

/// The limits announced in `welcome`, in the names clients read.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WireLimits {
    pub max_message_bytes: usize,
    pub max_components: usize,
    pub max_doc_len: u64,
    pub max_embed_bytes: usize,
    pub max_attribute_keys: usize,
    pub max_catchup_ops: u64,
    pub ops_per_second: u32,
    pub presence_per_second: u32,
}

impl From<&crate::config::Limits> for WireLimits {
    fn from(limits: &crate::config::Limits) -> WireLimits {
        WireLimits {
            max_message_bytes: limits.max_message_bytes,
            max_components: limits.max_components,
            max_doc_len: limits.max_doc_len,
            max_embed_bytes: limits.max_embed_bytes,
            max_attribute_keys: limits.max_attribute_keys,
            max_catchup_ops: limits.max_catchup_ops,
            ops_per_second: limits.ops_per_second,
            presence_per_second: limits.presence_per_second,
        }
    }
}

/// Why a frame was refused; `seq` is set when the frame was an op, so the client knows which one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub code: ErrorCode,
    pub msg: String,
    pub seq: Option<u64>,
}

/// Decodes one text frame. An op whose text holds a lone surrogate (JSON escapes such as `"\ud800"`, which a
/// browser produces for a split emoji) is a `bad_op` for that seq, not a malformed message: serde refuses
/// such strings, so the frame is parsed once more with them replaced to find out whether it was an op.
pub fn decode_client_msg(text: &str) -> Result<ClientMsg, Rejection> {
    let err = match serde_json::from_str::<ClientMsg>(text) {
        Ok(msg) => return Ok(msg),
        Err(err) => err,
    };
    if let Some(patched) = replace_surrogate_escapes(text) {
        match serde_json::from_str::<ClientMsg>(&patched) {
            Ok(ClientMsg::Op(op)) => {
                return Err(Rejection {
                    code: ErrorCode::BadOp,
                    msg: "insert text holds a lone surrogate".into(),
                    seq: Some(op.seq),
                });
            }
            // A comment with such text (a split emoji pasted into it) is refused, not the connection.
            Ok(ClientMsg::Hello(_) | ClientMsg::Presence(_) | ClientMsg::Ping(_)) | Err(_) => {}
            Ok(_) => {
                return Err(Rejection {
                    code: ErrorCode::BadComment,
                    msg: "the comment holds a lone surrogate".into(),
                    seq: None,
                });
            }
        }
    }
    Err(Rejection {
        code: ErrorCode::BadMessage,
        msg: format!("malformed message: {err}"),
        seq: None,
    })
}

/// `text` with every `\uD800`..`\uDFFF` escape replaced by `\uFFFD`, or `None` when it has none.
fn replace_surrogate_escapes(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    let mut found = false;
    let mut idx = 0;
    while idx + 6 <= bytes.len() {
        let is_escape = bytes[idx] == b'\\'
            && bytes[idx + 1] == b'u'
            && preceding_backslashes(bytes, idx).is_multiple_of(2);
        let is_surrogate = is_escape
            && matches!(bytes[idx + 2], b'd' | b'D')
            && matches!(bytes[idx + 3], b'8'..=b'9' | b'a'..=b'f' | b'A'..=b'F')
            && bytes[idx + 4].is_ascii_hexdigit()
            && bytes[idx + 5].is_ascii_hexdigit();
        if is_surrogate {
            out.push_str(&text[last..idx]);
            out.push_str("\\uFFFD");
            last = idx + 6;
            idx += 6;
            found = true;
        } else {
            idx += 1;
        }
    }
    out.push_str(&text[last..]);
    found.then_some(out)
}

fn preceding_backslashes(bytes: &[u8], idx: usize) -> usize {
    bytes[..idx]
        .iter()
        .rev()
        .take_while(|byte| **byte == b'\\')
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_each_client_message() {
        let hello =
            decode_client_msg(r#"{"t":"hello","proto":1,"client":"abc","rev":null}"#).unwrap();
        assert!(matches!(hello, ClientMsg::Hello(Hello { rev: None, .. })));
        let op = decode_client_msg(r#"{"t":"op","rev":3,"seq":1,"op":[{"insert":"x"}]}"#).unwrap();
        assert!(matches!(op, ClientMsg::Op(OpMsg { rev: 3, seq: 1, .. })));
        let presence =
            decode_client_msg(r#"{"t":"presence","rev":0,"sel":{"index":1,"length":0}}"#).unwrap();
        assert!(matches!(
            presence,
            ClientMsg::Presence(PresenceMsg { sel: Some(_), .. })
        ));
        assert!(matches!(
            decode_client_msg(r#"{"t":"ping"}"#).unwrap(),
            ClientMsg::Ping(_)
        ));
    }

    #[test]
    fn rejects_unknown_types_fields_and_wrong_types() {
        for bad in [
            "not json",
            r#"{"t":"shout"}"#,
            r#"{"t":"op","rev":1,"seq":1,"op":[],"extra":1}"#,
            r#"{"t":"op","rev":"1","seq":1,"op":[]}"#,
            r#"{"t":"op","rev":-1,"seq":1,"op":[]}"#,
            r#"{"rev":1}"#,
        ] {
            assert_eq!(
                decode_client_msg(bad).unwrap_err().code,
                ErrorCode::BadMessage,
                "{bad}"
            );
        }
    }

    #[test]
    fn a_lone_surrogate_in_an_op_is_a_bad_op_for_its_seq() {
        let lone = decode_client_msg(r#"{"t":"op","rev":0,"seq":4,"op":[{"insert":"a\ud83db"}]}"#)
            .unwrap_err();
        assert_eq!((lone.code, lone.seq), (ErrorCode::BadOp, Some(4)));
        let pair =
            decode_client_msg(r#"{"t":"op","rev":0,"seq":4,"op":[{"insert":"\ud83d\ude00"}]}"#);
        assert!(pair.is_ok(), "a valid pair is text");
        let escaped =
            decode_client_msg(r#"{"t":"op","rev":0,"seq":4,"op":[{"insert":"\\ud83d"}],"x":1}"#)
                .unwrap_err();
        assert_eq!(
            escaped.code,
            ErrorCode::BadMessage,
            "an escaped backslash is not a surrogate escape"
        );
        let not_op =
            decode_client_msg(r#"{"t":"presence","rev":"\ud800","sel":null}"#).unwrap_err();
        assert_eq!(not_op.code, ErrorCode::BadMessage);
    }

    #[test]
    fn op_frames_are_valid_json() {
        let user = serde_json::json!({"id": "u1", "name": "Ann \"A\"", "color": "#112233"});
        let frame = op_frame(4, r#"[{"insert":"x"}]"#, "c\"1", 2, &user.to_string());
        let value: Value = serde_json::from_str(&frame).unwrap();
        assert_eq!(value["client"], "c\"1");
        assert_eq!(value["op"][0]["insert"], "x");
        assert_eq!(value["user"]["name"], "Ann \"A\"");
    }
}
