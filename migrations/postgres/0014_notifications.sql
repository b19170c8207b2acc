-- Mentions and notifications (issue 14): a comment message names the people it mentions (one row each), and each
-- person mentioned by someone else gets a notification, written in the same transaction as the message. Both go
-- with the document, the message and the person's account; a notification also goes with its thread.
CREATE TABLE comment_mentions (
    message_id TEXT NOT NULL REFERENCES comment_messages(id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    doc_id     TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    position   BIGINT NOT NULL,
    PRIMARY KEY (message_id, user_id)
);
CREATE INDEX comment_mentions_doc ON comment_mentions(doc_id);
CREATE TABLE notifications (
    id         TEXT PRIMARY KEY,
    recipient  TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    doc_id     TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    thread_id  TEXT NOT NULL REFERENCES comment_threads(id) ON DELETE CASCADE,
    message_id TEXT NOT NULL REFERENCES comment_messages(id) ON DELETE CASCADE,
    by_id      TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    read_at    BIGINT
);
CREATE INDEX notifications_recipient ON notifications(recipient, created_at);
