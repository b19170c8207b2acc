//! A person's other browsers against the pages: a second sign-in, whether a session still holds, whether a password
//! still logs in, form posts, and the document socket opened with a session cookie as a browser opens it.

use reqwest::Client;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use super::{TestServer, client, cookie_value, post_form, post_login};
use crate::hub_client::{TestSocket, client_id};

/// Another browser of the person, signed in with the JSON log-in; returns it and its session cookie's value.
pub async fn second_browser(server: &TestServer, email: &str, password: &str) -> (Client, String) {
    let browser = client();
    let response = post_login(&browser, server, email, password).await;
    assert_eq!(response.status(), 200, "log-in of {email}");
    let session = cookie_value(&response, "quire_session").expect("a session cookie");
    (browser, session)
}

/// GET /api/me's status for a browser: 200 while its session holds, 401 after.
pub async fn me_status(server: &TestServer, browser: &Client) -> u16 {
    let response = browser.get(server.url("/api/me")).send().await;
    response.expect("GET /api/me").status().as_u16()
}

/// The status of a fresh log-in with this password: 200, or 401 when refused.
pub async fn login_status(server: &TestServer, email: &str, password: &str) -> u16 {
    let response = post_login(&client(), server, email, password).await;
    response.status().as_u16()
}

/// Posts a form and returns the final status, path and page (redirects followed).
pub async fn submit(
    server: &TestServer,
    browser: &Client,
    path: &str,
    pairs: &[(&str, &str)],
) -> (u16, String, String) {
    let response = post_form(browser, &server.url(path), pairs).await;
    let status = response.status().as_u16();
    let path = response.url().path().to_string();
    (status, path, response.text().await.expect("page"))
}

/// Opens the document's socket with a session cookie, as a browser does, and says hello as a client id made from
/// `label`.
pub async fn socket_with_session(
    server: &TestServer,
    doc: &str,
    session: &str,
    label: &str,
) -> TestSocket {
    let mut request = format!("ws://{}/api/docs/{doc}/ws", server.addr)
        .into_client_request()
        .expect("request");
    let cookie = HeaderValue::from_str(&format!("quire_session={session}")).expect("header");
    request.headers_mut().insert("cookie", cookie);
    let (ws, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("websocket connect");
    let mut socket = TestSocket { ws };
    socket.hello(&client_id(label), None).await;
    socket
}
