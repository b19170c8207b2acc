//! The words of every message Quire sends. Plain text; links are absolute, under `server.public_url`.

use super::MailText;

/// "Forgot your password?", or an administrator's reset: a link that sets a new password once.
pub struct PasswordReset {
    pub name: String,
    pub link: String,
    /// How long the link works, in words ("1 hour").
    pub lifetime: String,
}

impl MailText for PasswordReset {
    fn subject(&self) -> String {
        "Reset your Quire password".into()
    }

    fn body(&self) -> String {
        format!(
            "Hello {name},\n\n\
             Someone (we hope you) asked to reset the password of your Quire account.\n\
             To choose a new password, open this link within {lifetime}:\n\n\
             {link}\n\n\
             The link works once. Setting a new password signs you out everywhere.\n\
             If you did not ask for this, ignore this message: your password stays as it is.\n",
            name = self.name,
            lifetime = self.lifetime,
            link = self.link,
        )
    }
}

/// An invitation to make an account: from the admin page, or from sharing a document with someone who has none.
pub struct Invitation {
    pub inviter: String,
    /// The document they want to share, when sharing caused the invitation.
    pub document: Option<String>,
    pub link: String,
}

impl MailText for Invitation {
    fn subject(&self) -> String {
        match &self.document {
            Some(title) => format!(
                "{} wants to share \"{title}\" with you on Quire",
                self.inviter
            ),
            None => format!("{} invites you to Quire", self.inviter),
        }
    }

    fn body(&self) -> String {
        let why = match &self.document {
            Some(title) => format!(
                "{} wants to share the document \"{title}\" with you on Quire, a collaborative editor.\n\
                 Make an account with this e-mail address; they can then share it with you:",
                self.inviter
            ),
            None => format!(
                "{} invites you to Quire, a collaborative editor.\n\
                 Make your account with this e-mail address here:",
                self.inviter
            ),
        };
        format!(
            "Hello,\n\n{why}\n\n{}\n\nIf you do not know them, ignore this message.\n",
            self.link
        )
    }
}

/// The notice that someone shared a document with an existing account.
pub struct SharedWithYou {
    pub sharer: String,
    pub document: String,
    /// "edit", "comment on" or "view".
    pub verb: &'static str,
    pub link: String,
}

impl MailText for SharedWithYou {
    fn subject(&self) -> String {
        format!("{} shared \"{}\" with you", self.sharer, self.document)
    }

    fn body(&self) -> String {
        format!(
            "Hello,\n\n{sharer} shared the document \"{document}\" with you on Quire: you can {verb} it.\n\n\
             {link}\n",
            sharer = self.sharer,
            document = self.document,
            verb = self.verb,
            link = self.link,
        )
    }
}

/// The notice that someone mentioned a person in a comment.
pub struct MentionedYou {
    pub author: String,
    pub document: String,
    /// The start of the message.
    pub excerpt: String,
    /// The thread: `/d/{doc}#comment-{thread}` under the public URL.
    pub link: String,
}

impl MailText for MentionedYou {
    fn subject(&self) -> String {
        format!("{} mentioned you in \"{}\"", self.author, self.document)
    }

    fn body(&self) -> String {
        format!(
            "Hello,\n\n{author} mentioned you in a comment on \"{document}\":\n\n{quoted}\n\n\
             Open the thread: {link}\n",
            author = self.author,
            document = self.document,
            quoted = self
                .excerpt
                .lines()
                .map(|line| format!("> {line}"))
                .collect::<Vec<_>>()
                .join("\n"),
            link = self.link,
        )
    }
}

/// `quire mail-test`: proof that the settings work.
pub struct TestMessage {
    pub public_url: String,
}

impl MailText for TestMessage {
    fn subject(&self) -> String {
        "Quire test message".into()
    }

    fn body(&self) -> String {
        format!(
            "Hello,\n\nThis message comes from the Quire server at {}: its e-mail settings work.\n",
            self.public_url
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reset_message_carries_the_link_and_its_lifetime() {
        let reset = PasswordReset {
            name: "Ann".into(),
            link: "https://docs.example.com/reset/abc".into(),
            lifetime: "1 hour".into(),
        };
        assert!(
            reset
                .body()
                .contains("\n\nhttps://docs.example.com/reset/abc\n\n")
        );
        assert!(reset.body().contains("within 1 hour"));
    }

    #[test]
    fn an_invitation_from_sharing_names_the_document() {
        let invite = Invitation {
            inviter: "Ann".into(),
            document: Some("Plans".into()),
            link: "https://docs.example.com/signup?invite=x".into(),
        };
        assert_eq!(
            invite.subject(),
            "Ann wants to share \"Plans\" with you on Quire"
        );
        assert!(
            invite
                .body()
                .contains("https://docs.example.com/signup?invite=x")
        );
    }
}
