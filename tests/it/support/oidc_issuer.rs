//! `TestIssuer`: a small OpenID Connect provider on 127.0.0.1:0 that Quire's production code talks to unchanged.
//! It serves a real discovery document and JWKS, and signs real RS256 ID tokens with the committed test-only key
//! `tests/fixtures/oidc/issuer_key.pem` (PKCS#1, made with `openssl genrsa -traditional 2048`); the other key
//! there, never published in the JWKS, signs the forgeries. `/authorize` consents at once, as whoever the test
//! chose with `next_login`; `/token` checks the code (once only), the client secret, the redirect URI and the
//! PKCE verifier against the challenge, as a real provider does.

use std::{
    collections::{HashMap, HashSet},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
};

use axum::{
    Form, Json, Router,
    extract::{Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use base64::{Engine, engine::general_purpose::STANDARD, engine::general_purpose::URL_SAFE_NO_PAD};
use openidconnect::{
    Audience, EmptyAdditionalClaims, EndUserEmail, EndUserName, IssuerUrl, JsonWebKeyId,
    LocalizedClaim, Nonce, PrivateSigningKey, StandardClaims, SubjectIdentifier,
    core::{
        CoreIdToken, CoreIdTokenClaims, CoreJsonWebKeySet, CoreJwsSigningAlgorithm,
        CoreRsaPrivateSigningKey,
    },
};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::{net::TcpListener, task::JoinHandle};

pub const CLIENT_ID: &str = "quire-test";
pub const CLIENT_SECRET: &str = "test-secret";

const ISSUER_KEY: &str = include_str!("../../fixtures/oidc/issuer_key.pem");
const ROGUE_KEY: &str = include_str!("../../fixtures/oidc/rogue_key.pem");

/// Who the next `/authorize` signs in, and how the token for it goes wrong, if it should.
#[derive(Debug, Clone)]
pub struct NextLogin {
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
    /// Signed with the key that is not in the JWKS.
    pub rogue_signature: bool,
    /// `exp` an hour ago.
    pub expired: bool,
    /// A nonce other than the one Quire sent.
    pub wrong_nonce: bool,
}

impl NextLogin {
    /// A person with a verified e-mail.
    pub fn person(subject: &str, email: &str) -> NextLogin {
        NextLogin {
            subject: subject.into(),
            email: Some(email.into()),
            email_verified: true,
            name: Some(format!("Person {subject}")),
            rogue_signature: false,
            expired: false,
            wrong_nonce: false,
        }
    }
}

/// What `/authorize` handed out against a code.
#[derive(Debug, Clone)]
struct Grant {
    login: NextLogin,
    redirect_uri: String,
    code_challenge: String,
    nonce: String,
}

struct Issuer {
    url: String,
    next: Mutex<NextLogin>,
    grants: Mutex<HashMap<String, Grant>>,
    used_codes: Mutex<HashSet<String>>,
    key: CoreRsaPrivateSigningKey,
    rogue: CoreRsaPrivateSigningKey,
    /// The keys swapped: the rogue key is published and signs, the other one forges.
    rotated: AtomicBool,
}

impl Issuer {
    fn published_key(&self) -> &CoreRsaPrivateSigningKey {
        if self.rotated.load(Ordering::Relaxed) {
            &self.rogue
        } else {
            &self.key
        }
    }

    fn unpublished_key(&self) -> &CoreRsaPrivateSigningKey {
        if self.rotated.load(Ordering::Relaxed) {
            &self.key
        } else {
            &self.rogue
        }
    }
}

pub struct TestIssuer {
    /// `http://127.0.0.1:PORT`: the issuer URL, as in its tokens.
    pub url: String,
    issuer: Arc<Issuer>,
    task: JoinHandle<()>,
}

impl TestIssuer {
    pub async fn start() -> TestIssuer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let url = format!("http://{}", listener.local_addr().expect("local addr"));
        let issuer = Arc::new(Issuer {
            url: url.clone(),
            next: Mutex::new(NextLogin::person("nobody", "nobody@example.com")),
            grants: Mutex::default(),
            used_codes: Mutex::default(),
            key: signing_key(ISSUER_KEY),
            rogue: signing_key(ROGUE_KEY),
            rotated: AtomicBool::new(false),
        });
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .with_state(issuer.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        TestIssuer { url, issuer, task }
    }

    /// The person (and the flaw) the next sign-in gets.
    pub fn next_login(&self, login: NextLogin) {
        *self.issuer.next.lock().unwrap() = login;
    }

    /// Rotates the signing key, as providers do now and then: a new one is published and signs from now on.
    pub fn rotate_keys(&self) {
        self.issuer.rotated.fetch_xor(true, Ordering::Relaxed);
    }

    /// The `[[auth.oidc]]` table for this issuer, with `extra` lines appended.
    pub fn provider_toml(&self, id: &str, extra: &str) -> String {
        format!(
            "[[auth.oidc]]\nid = \"{id}\"\ndisplay_name = \"Test IdP\"\nissuer = \"{}\"\n\
             client_id = \"{CLIENT_ID}\"\nclient_secret = \"{CLIENT_SECRET}\"\n{extra}\n",
            self.url
        )
    }
}

impl Drop for TestIssuer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The same key id for both keys, so that a forgery is caught by its signature, not by an unknown `kid`.
fn signing_key(pem: &str) -> CoreRsaPrivateSigningKey {
    CoreRsaPrivateSigningKey::from_pem(pem, Some(JsonWebKeyId::new("test-key".into())))
        .expect("test key PEM")
}

async fn discovery(State(issuer): State<Arc<Issuer>>) -> Response {
    let url = &issuer.url;
    Json(json!({
        "issuer": url,
        "authorization_endpoint": format!("{url}/authorize"),
        "token_endpoint": format!("{url}/token"),
        "jwks_uri": format!("{url}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": ["openid", "email", "profile"],
    }))
    .into_response()
}

async fn jwks(State(issuer): State<Arc<Issuer>>) -> Response {
    Json(CoreJsonWebKeySet::new(vec![
        issuer.published_key().as_verification_key(),
    ]))
    .into_response()
}

#[derive(Debug, Deserialize)]
struct AuthorizeQuery {
    response_type: String,
    client_id: String,
    redirect_uri: String,
    scope: String,
    state: String,
    nonce: String,
    code_challenge: String,
    code_challenge_method: String,
}

async fn authorize(
    State(issuer): State<Arc<Issuer>>,
    Query(query): Query<AuthorizeQuery>,
) -> Response {
    let well_formed = query.response_type == "code"
        && query.client_id == CLIENT_ID
        && query.code_challenge_method == "S256"
        && query.scope.split(' ').any(|scope| scope == "openid");
    if !well_formed {
        return (StatusCode::BAD_REQUEST, "bad authorization request").into_response();
    }
    let code = format!("code-{}", quire::auth::new_token());
    let grant = Grant {
        login: issuer.next.lock().unwrap().clone(),
        redirect_uri: query.redirect_uri.clone(),
        code_challenge: query.code_challenge,
        nonce: query.nonce,
    };
    issuer.grants.lock().unwrap().insert(code.clone(), grant);
    let state = url_encode(&query.state);
    Redirect::to(&format!("{}?code={code}&state={state}", query.redirect_uri)).into_response()
}

#[derive(Debug, Deserialize)]
struct TokenForm {
    grant_type: String,
    code: String,
    redirect_uri: String,
    code_verifier: String,
}

async fn token(
    State(issuer): State<Arc<Issuer>>,
    headers: HeaderMap,
    Form(form): Form<TokenForm>,
) -> Response {
    if !client_authenticated(&headers) {
        return token_error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    // A code works once; a second use is refused even after the grant is gone.
    if form.grant_type != "authorization_code"
        || !issuer.used_codes.lock().unwrap().insert(form.code.clone())
    {
        return token_error(StatusCode::BAD_REQUEST, "invalid_grant");
    }
    let Some(grant) = issuer.grants.lock().unwrap().remove(&form.code) else {
        return token_error(StatusCode::BAD_REQUEST, "invalid_grant");
    };
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(form.code_verifier.as_bytes()));
    if grant.redirect_uri != form.redirect_uri || grant.code_challenge != challenge {
        return token_error(StatusCode::BAD_REQUEST, "invalid_grant");
    }
    let id_token = id_token(&issuer, &grant);
    Json(json!({
        "access_token": format!("access-{}", quire::auth::new_token()),
        "token_type": "Bearer",
        "expires_in": 300,
        "id_token": id_token.to_string(),
    }))
    .into_response()
}

fn id_token(issuer: &Issuer, grant: &Grant) -> CoreIdToken {
    let login = &grant.login;
    let now = chrono::Utc::now();
    let (issued, expires) = if login.expired {
        (
            now - chrono::Duration::hours(2),
            now - chrono::Duration::hours(1),
        )
    } else {
        (now, now + chrono::Duration::minutes(5))
    };
    let mut standard = StandardClaims::new(SubjectIdentifier::new(login.subject.clone()))
        .set_email(login.email.clone().map(EndUserEmail::new))
        .set_email_verified(Some(login.email_verified));
    if let Some(name) = &login.name {
        standard = standard.set_name(Some(LocalizedClaim::from(EndUserName::new(name.clone()))));
    }
    let nonce = if login.wrong_nonce {
        "not-the-nonce-quire-sent".to_string()
    } else {
        grant.nonce.clone()
    };
    let claims = CoreIdTokenClaims::new(
        IssuerUrl::new(issuer.url.clone()).expect("issuer URL"),
        vec![Audience::new(CLIENT_ID.into())],
        expires,
        issued,
        standard,
        EmptyAdditionalClaims {},
    )
    .set_nonce(Some(Nonce::new(nonce)));
    let key = if login.rogue_signature {
        issuer.unpublished_key()
    } else {
        issuer.published_key()
    };
    CoreIdToken::new(
        claims,
        key,
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        None,
        None,
    )
    .expect("sign the ID token")
}

/// `client_secret_basic`: the id and secret, each form-encoded, in a Basic header (RFC 6749 section 2.3.1).
fn client_authenticated(headers: &HeaderMap) -> bool {
    let expected = STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"));
    headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Basic "))
        .is_some_and(|sent| sent == expected)
}

fn token_error(status: StatusCode, error: &str) -> Response {
    (status, Json(json!({ "error": error }))).into_response()
}

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (byte as char).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}
