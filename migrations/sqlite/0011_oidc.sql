-- OpenID Connect single sign-on. An account is linked to a provider's person by the issuer and the subject (`sub`),
-- which the provider never reassigns, not by the e-mail, which can change.
CREATE TABLE oidc_identities (
    issuer     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX oidc_identities_user ON oidc_identities(user_id);

-- Sign-ins in progress, between the redirect to the provider and its callback: minutes at most. The row is deleted
-- when the callback uses it, so a replayed callback finds nothing.
CREATE TABLE oidc_logins (
    state_hash    TEXT PRIMARY KEY,
    provider      TEXT NOT NULL,
    nonce         TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    return_to     TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE INDEX oidc_logins_created ON oidc_logins(created_at);
