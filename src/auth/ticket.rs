//! Redirect tickets: a short-lived, HMAC-signed pass that carries a caller's sign-in from one cluster node to
//! another, because cookies belong to one host. A ticket names the user, the one document it opens, when it
//! expires, and the credential it stands for (the hash of the session or API token, never the token itself),
//! so the receiving node checks that credential again exactly as if the cookie had come along: signing out or
//! revoking access ends the redirected socket too.
//!
//! Format: `base64url(payload) "." base64url(HMAC-SHA256(secret, payload))`, payload
//! `v1|user|doc|expires_ms|kind|hash`. Ids and hashes never contain `|` (ids are URL-safe, hashes hex).

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// How long a ticket opens its document: long enough for a client to follow a redirect, too short to be worth
/// stealing from a log.
pub const TICKET_TTL_MS: i64 = 30_000;

/// What the ticket's holder signed in with on the node that issued it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TicketCredential {
    /// The SHA-256 hash of a session token.
    Session(String),
    /// The SHA-256 hash of an API token.
    ApiToken(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    pub user_id: String,
    pub doc_id: String,
    pub expires_ms: i64,
    pub credential: TicketCredential,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TicketError {
    #[error("the ticket is malformed")]
    Malformed,
    #[error("the ticket's signature is wrong")]
    BadSignature,
    #[error("the ticket has expired")]
    Expired,
    #[error("the ticket is for another document")]
    OtherDocument,
}

impl Ticket {
    /// Signs the ticket with the cluster's secret.
    pub fn sign(&self, secret: &[u8]) -> String {
        let (kind, hash) = match &self.credential {
            TicketCredential::Session(hash) => ("s", hash),
            TicketCredential::ApiToken(hash) => ("t", hash),
        };
        let payload = format!(
            "v1|{}|{}|{}|{kind}|{hash}",
            self.user_id, self.doc_id, self.expires_ms
        );
        let mac = mac(secret, payload.as_bytes()).finalize().into_bytes();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(payload),
            URL_SAFE_NO_PAD.encode(mac)
        )
    }

    /// The ticket, if it is signed with `secret`, opens `doc_id` and has not expired at `now_ms`.
    pub fn verify(
        text: &str,
        secret: &[u8],
        doc_id: &str,
        now_ms: i64,
    ) -> Result<Ticket, TicketError> {
        let (payload, signature) = text.split_once('.').ok_or(TicketError::Malformed)?;
        let payload = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| TicketError::Malformed)?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| TicketError::Malformed)?;
        // Checked before anything in the payload is believed; `verify_slice` compares in constant time.
        mac(secret, &payload)
            .verify_slice(&signature)
            .map_err(|_| TicketError::BadSignature)?;
        let payload = String::from_utf8(payload).map_err(|_| TicketError::Malformed)?;
        let ticket = parse(&payload).ok_or(TicketError::Malformed)?;
        if ticket.expires_ms <= now_ms {
            return Err(TicketError::Expired);
        }
        if ticket.doc_id != doc_id {
            return Err(TicketError::OtherDocument);
        }
        Ok(ticket)
    }
}

fn mac(secret: &[u8], payload: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(secret).expect("HMAC accepts any key length");
    mac.update(payload);
    mac
}

fn parse(payload: &str) -> Option<Ticket> {
    let mut fields = payload.split('|');
    let (version, user_id, doc_id, expires, kind, hash) = (
        fields.next()?,
        fields.next()?,
        fields.next()?,
        fields.next()?,
        fields.next()?,
        fields.next()?,
    );
    if version != "v1" || fields.next().is_some() {
        return None;
    }
    let credential = match kind {
        "s" => TicketCredential::Session(hash.to_string()),
        "t" => TicketCredential::ApiToken(hash.to_string()),
        _ => return None,
    };
    Some(Ticket {
        user_id: user_id.to_string(),
        doc_id: doc_id.to_string(),
        expires_ms: expires.parse().ok()?,
        credential,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn ticket() -> Ticket {
        Ticket {
            user_id: "u1".into(),
            doc_id: "doc1".into(),
            expires_ms: 1_000,
            credential: TicketCredential::Session("ab12".into()),
        }
    }

    #[test]
    fn a_signed_ticket_opens_its_document_until_it_expires() {
        let text = ticket().sign(SECRET);
        assert_eq!(Ticket::verify(&text, SECRET, "doc1", 999), Ok(ticket()));
        assert_eq!(
            Ticket::verify(&text, SECRET, "doc1", 1_000),
            Err(TicketError::Expired)
        );
        assert_eq!(
            Ticket::verify(&text, SECRET, "doc2", 0),
            Err(TicketError::OtherDocument)
        );
    }

    #[test]
    fn another_secret_or_an_edited_payload_is_refused() {
        let text = ticket().sign(SECRET);
        let other = b"another secret, also long enough....";
        assert_eq!(
            Ticket::verify(&text, other, "doc1", 0),
            Err(TicketError::BadSignature)
        );
        // The same signature over a payload naming someone else.
        let (_, signature) = text.split_once('.').unwrap();
        let forged = URL_SAFE_NO_PAD.encode("v1|admin|doc1|1000|s|ab12");
        assert_eq!(
            Ticket::verify(&format!("{forged}.{signature}"), SECRET, "doc1", 0),
            Err(TicketError::BadSignature)
        );
        for junk in ["", ".", "abc", "a.b.c", "!!.!!"] {
            assert!(Ticket::verify(junk, SECRET, "doc1", 0).is_err(), "{junk}");
        }
    }
}
