//! The OpenID Connect relying party: each provider's discovery document (fetched on first use and cached, and
//! again when an ID token is signed with a key it lacks), the
//! authorization URL with PKCE, `state` and `nonce`, and the code exchange whose ID token openidconnect checks
//! (signature against the provider's published keys, issuer, audience, expiry, nonce). Quire's only requests to
//! another server; it knows nothing of our routes or cookies.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use openidconnect::{
    AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken, IssuerUrl,
    Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope,
    TokenResponse,
    core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata},
    reqwest,
};

use crate::config::OidcProvider;

/// How long a discovery document (and the signing keys in it) is trusted before it is fetched again, so that a
/// provider's key rotation reaches us without a restart.
const DISCOVERY_TTL: Duration = Duration::from_secs(3600);
/// An ID token whose signature fails makes us fetch the provider's keys again (it may have rotated them), but at
/// most once in this time, so that forged tokens cannot make us hammer the provider.
const KEY_REFETCH_INTERVAL: Duration = Duration::from_secs(60);
/// A provider that does not answer within this time counts as down: the person gets a page, not a hung tab.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("the sign-in provider cannot be reached or answered badly ({0})")]
    Unavailable(String),
    #[error("the sign-in provider refused the sign-in ({0})")]
    Refused(String),
    #[error("the sign-in provider's answer did not check out ({0})")]
    BadToken(String),
}

/// Where to send the browser, and the secrets the callback needs back.
#[derive(Debug)]
pub struct Authorization {
    pub url: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

/// What a checked ID token says about the person.
#[derive(Debug, Clone)]
pub struct VerifiedClaims {
    pub issuer: String,
    pub subject: String,
    /// Lower-cased.
    pub email: Option<String>,
    /// A missing `email_verified` counts as false.
    pub email_verified: bool,
    pub name: Option<String>,
}

/// Discovery documents by provider id, shared by every request.
#[derive(Debug)]
pub struct OidcClients {
    /// An error when no HTTP client could be built (no TLS roots): then every sign-in says the provider is
    /// unreachable, and password log-in still works.
    http: Result<reqwest::Client, String>,
    discovered: Mutex<HashMap<String, Discovered>>,
}

/// One provider's discovery document (with its signing keys) as cached.
#[derive(Debug, Clone)]
struct Discovered {
    fetched: Instant,
    metadata: Arc<CoreProviderMetadata>,
    /// Fetched because an ID token's signature failed against the keys cached before.
    for_keys: bool,
}

impl Default for OidcClients {
    fn default() -> Self {
        OidcClients::new()
    }
}

impl OidcClients {
    pub fn new() -> OidcClients {
        let http = reqwest::Client::builder()
            // openidconnect's advice: a redirect could lead the token request somewhere else.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(PROVIDER_TIMEOUT)
            .build()
            .map_err(|err| error_chain(&err));
        OidcClients {
            http,
            discovered: Mutex::default(),
        }
    }

    fn http(&self) -> Result<&reqwest::Client, OidcError> {
        self.http
            .as_ref()
            .map_err(|err| OidcError::Unavailable(err.clone()))
    }

    /// The provider's authorization URL for a fresh sign-in, and its secrets.
    pub async fn authorize(
        &self,
        provider: &OidcProvider,
        redirect_url: &str,
    ) -> Result<Authorization, OidcError> {
        let metadata = self.metadata(provider).await?;
        let client = relying_party(provider, &metadata, redirect_url)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client.authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        for scope in provider.scopes.iter().filter(|scope| *scope != "openid") {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
        Ok(Authorization {
            url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        })
    }

    /// Trades the code for tokens and checks the ID token: signed by a key the provider publishes, issued by it,
    /// for our client id, not expired, carrying the nonce this sign-in was started with.
    pub async fn exchange(
        &self,
        provider: &OidcProvider,
        redirect_url: &str,
        code: &str,
        pkce_verifier: &str,
        nonce: &str,
    ) -> Result<VerifiedClaims, OidcError> {
        let metadata = self.metadata(provider).await?;
        let client = relying_party(provider, &metadata, redirect_url)?;
        let request = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|err| OidcError::Unavailable(err.to_string()))?;
        let response = request
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_string()))
            .request_async(self.http()?)
            .await
            .map_err(token_error)?;
        let id_token = response
            .id_token()
            .ok_or_else(|| OidcError::BadToken("no ID token in the answer".into()))?;
        let nonce = Nonce::new(nonce.to_string());
        let claims = match id_token.claims(&client.id_token_verifier(), &nonce) {
            Err(ClaimsVerificationError::SignatureVerification(_))
                if self.may_refetch_keys(&provider.id) =>
            {
                // Signed with a key we have not seen: the provider may have rotated its keys since we cached
                // them. Check once more against the keys it publishes now.
                let fresh = self.discover(provider, true).await?;
                let fresh_client = relying_party(provider, &fresh, redirect_url)?;
                id_token.claims(&fresh_client.id_token_verifier(), &nonce)
            }
            checked => checked,
        }
        .map_err(|err| OidcError::BadToken(err.to_string()))?;
        let name = claims
            .name()
            .and_then(|names| names.get(None))
            .map(|name| name.as_str().to_string())
            .or_else(|| {
                claims
                    .preferred_username()
                    .map(|name| name.as_str().to_string())
            });
        Ok(VerifiedClaims {
            issuer: claims.issuer().as_str().to_string(),
            subject: claims.subject().as_str().to_string(),
            email: claims
                .email()
                .map(|email| email.as_str().trim().to_lowercase()),
            email_verified: claims.email_verified().unwrap_or(false),
            name,
        })
    }

    /// The cached discovery document, or a fresh one. A failed discovery is not cached: the next sign-in tries
    /// again, so a provider that was down for a moment needs no restart.
    async fn metadata(
        &self,
        provider: &OidcProvider,
    ) -> Result<Arc<CoreProviderMetadata>, OidcError> {
        if let Some(metadata) = self.cached(&provider.id) {
            return Ok(metadata);
        }
        self.discover(provider, false).await
    }

    async fn discover(
        &self,
        provider: &OidcProvider,
        for_keys: bool,
    ) -> Result<Arc<CoreProviderMetadata>, OidcError> {
        let issuer = IssuerUrl::new(provider.issuer.clone())
            .map_err(|err| OidcError::Unavailable(err.to_string()))?;
        let metadata = CoreProviderMetadata::discover_async(issuer, self.http()?)
            .await
            .map_err(|err| OidcError::Unavailable(error_chain(&err)))?;
        let metadata = Arc::new(metadata);
        let discovered = Discovered {
            fetched: Instant::now(),
            metadata: metadata.clone(),
            for_keys,
        };
        self.lock().insert(provider.id.clone(), discovered);
        Ok(metadata)
    }

    fn cached(&self, provider_id: &str) -> Option<Arc<CoreProviderMetadata>> {
        let discovered = self.lock();
        let entry = discovered.get(provider_id)?;
        (entry.fetched.elapsed() < DISCOVERY_TTL).then(|| entry.metadata.clone())
    }

    /// False while the cached keys were themselves fetched for a failed signature less than a minute ago.
    fn may_refetch_keys(&self, provider_id: &str) -> bool {
        self.lock()
            .get(provider_id)
            .is_none_or(|entry| !entry.for_keys || entry.fetched.elapsed() >= KEY_REFETCH_INTERVAL)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Discovered>> {
        // The map holds only complete entries, so one left by a panicking thread is still sound.
        self.discovered
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn relying_party(
    provider: &OidcProvider,
    metadata: &CoreProviderMetadata,
    redirect_url: &str,
) -> Result<
    CoreClient<
        openidconnect::EndpointSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointNotSet,
        openidconnect::EndpointMaybeSet,
        openidconnect::EndpointMaybeSet,
    >,
    OidcError,
> {
    let redirect = RedirectUrl::new(redirect_url.to_string())
        .map_err(|err| OidcError::Unavailable(err.to_string()))?;
    Ok(CoreClient::from_provider_metadata(
        metadata.clone(),
        ClientId::new(provider.client_id.clone()),
        Some(ClientSecret::new(provider.client_secret.clone())),
    )
    .set_redirect_uri(redirect))
}

/// An error answer from the token endpoint (a code used twice, a wrong verifier) is the provider refusing; anything
/// else is the provider failing.
fn token_error<RE: std::error::Error + 'static, T: openidconnect::ErrorResponse + 'static>(
    err: RequestTokenError<RE, T>,
) -> OidcError {
    match err {
        RequestTokenError::ServerResponse(response) => OidcError::Refused(response.to_string()),
        other => OidcError::Unavailable(error_chain(&other)),
    }
}

/// An error with its causes: "cannot discover: connection refused" says more than its first line.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
