//! Outgoing e-mail (`[mail]`): the SMTP transport, with a deadline on every send, and the messages Quire writes.
//! The only module that knows lettre. Knows nothing of HTTP: callers decide whether a failure is shown or logged.

mod messages;

use std::time::Duration;

use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::Mailbox,
    transport::smtp::{
        authentication::Credentials,
        client::{Tls, TlsParameters},
    },
};

pub use messages::{Invitation, MentionedYou, PasswordReset, SharedWithYou, TestMessage};

use crate::config::{MailConfig, MailTls};

/// Sends e-mail, or says it is off. Cheap to share behind an `Arc`; each send opens its own SMTP connection, as
/// Quire sends too little mail to keep one open.
pub struct Mailer {
    on: Option<On>,
}

struct On {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    timeout: Duration,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.on.is_some() {
            "Mailer(on)"
        } else {
            "Mailer(off)"
        })
    }
}

/// Why a message did not leave. The text is for the person who asked and for the log; it holds no password.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("e-mail is off on this server")]
    Off,
    #[error("the address {0:?} cannot receive e-mail")]
    BadAddress(String),
    #[error("the mail server did not answer within {0:?}")]
    Timeout(Duration),
    #[error("the mail server refused or failed: {0}")]
    Smtp(String),
}

impl Mailer {
    /// `None`: e-mail is off, and every send says so without trying.
    pub fn new(config: Option<&MailConfig>) -> Result<Mailer, MailError> {
        let on = config.map(On::new).transpose()?;
        Ok(Mailer { on })
    }

    pub fn off() -> Mailer {
        Mailer { on: None }
    }

    pub fn is_on(&self) -> bool {
        self.on.is_some()
    }

    /// Sends one plain-text message and waits for the SMTP server's acceptance, at most `mail.timeout` in all.
    pub async fn send(&self, to: &str, text: &dyn MailText) -> Result<(), MailError> {
        let on = self.on.as_ref().ok_or(MailError::Off)?;
        let recipient: Mailbox = to
            .parse()
            .map_err(|_| MailError::BadAddress(to.to_string()))?;
        let message = Message::builder()
            .from(on.from.clone())
            .to(recipient)
            .subject(text.subject())
            .body(text.body())
            .map_err(|err| MailError::Smtp(err.to_string()))?;
        // lettre's own timeout is per SMTP command; a server that answers each one slowly must not hold the
        // request for several of them.
        match tokio::time::timeout(on.timeout, on.transport.send(message)).await {
            Ok(Ok(_)) => Ok(()),
            // lettre's per-command timeout and ours say the same thing.
            Ok(Err(err)) if err.is_timeout() => Err(MailError::Timeout(on.timeout)),
            Ok(Err(err)) => Err(MailError::Smtp(err.to_string())),
            Err(_) => Err(MailError::Timeout(on.timeout)),
        }
    }

    /// Sends in a task of its own, for messages whose sender must not wait (or must not be seen to wait): a
    /// failure is logged, as nobody is there to read it.
    pub fn send_in_background(
        self: &std::sync::Arc<Self>,
        to: String,
        text: impl MailText + 'static,
    ) {
        let mailer = self.clone();
        tokio::spawn(async move {
            if let Err(err) = mailer.send(&to, &text).await {
                tracing::warn!(%err, subject = text.subject(), "cannot send e-mail");
            }
        });
    }
}

impl On {
    fn new(config: &MailConfig) -> Result<On, MailError> {
        let tls_parameters = || {
            TlsParameters::new(config.host.clone()).map_err(|err| MailError::Smtp(err.to_string()))
        };
        let tls = match config.tls {
            MailTls::None => Tls::None,
            MailTls::Starttls => Tls::Required(tls_parameters()?),
            MailTls::Tls => Tls::Wrapper(tls_parameters()?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
            .port(config.port)
            .tls(tls)
            .timeout(Some(config.timeout));
        if let Some((user, password)) = &config.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        let from = config
            .from
            .parse()
            .map_err(|_| MailError::BadAddress(config.from.clone()))?;
        Ok(On {
            transport: builder.build(),
            from,
            timeout: config.timeout,
        })
    }
}

/// Whether the text is an address lettre can send from or to, such as `docs@example.com` or
/// `Quire <docs@example.com>` (for `config`, which checks `mail.from` before anything starts).
pub fn is_mailbox(text: &str) -> bool {
    text.parse::<Mailbox>().is_ok()
}

/// A message's words: its subject and plain-text body.
pub trait MailText: Send + Sync {
    fn subject(&self) -> String;
    fn body(&self) -> String;
}
