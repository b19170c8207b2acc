//! The client's address: the TCP peer, or, when the peer is one of `server.trusted_proxies`, the address the
//! proxy says it forwarded for (`X-Forwarded-For`, else `Forwarded`). Throttling and rate limits key on it.

use std::net::IpAddr;

use axum::{
    extract::FromRequestParts,
    http::{HeaderMap, request::Parts},
};
use ipnet::IpNet;

/// The client address of the request, resolved once by `client_addr_layer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientIp(pub IpAddr);

/// The address the request came from. A forwarding header is believed only from a trusted proxy, and only up to
/// the first hop that is not one: the rightmost untrusted entry is the client as the last trusted proxy saw it,
/// whatever the client itself wrote further left.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| is_trusted(ip, trusted);
    if !is_trusted(&peer) {
        return peer;
    }
    let hops = forwarded_for(headers);
    hops.iter()
        .rev()
        .find(|ip| !is_trusted(ip))
        .or(hops.first())
        .copied()
        .unwrap_or(peer)
}

/// Whether `ip` is one of `server.trusted_proxies`.
pub fn is_trusted(ip: &IpAddr, trusted: &[IpNet]) -> bool {
    trusted.iter().any(|net| net.contains(ip))
}

/// The forwarded-for chain, leftmost (the original client) first. An unparsable entry ends the chain there:
/// everything left of it is unverifiable.
fn forwarded_for(headers: &HeaderMap) -> Vec<IpAddr> {
    let xff: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();
    let entries = if xff.is_empty() {
        headers
            .get_all("forwarded")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .filter_map(forwarded_for_param)
            .collect()
    } else {
        xff
    };
    let mut chain = Vec::new();
    for entry in entries.iter().rev() {
        match parse_node(entry) {
            Some(ip) => chain.push(ip),
            None => break,
        }
    }
    chain.reverse();
    chain
}

/// The `for=` value of one `Forwarded` element (RFC 7239).
fn forwarded_for_param(element: &str) -> Option<&str> {
    element.split(';').find_map(|pair| {
        let (key, value) = pair.trim().split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("for")
            .then(|| value.trim().trim_matches('"'))
    })
}

/// An address as proxies write it: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1` or `[2001:db8::1]:5678`.
fn parse_node(node: &str) -> Option<IpAddr> {
    if let Ok(ip) = node.parse() {
        return Some(ip);
    }
    if let Some(rest) = node.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    node.rsplit_once(':')?.0.parse().ok()
}

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<ClientIp>()
            .copied()
            .unwrap_or(ClientIp(IpAddr::from([0, 0, 0, 0]))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_net as parse_trusted;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().unwrap());
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn headers_from_untrusted_peers_are_ignored() {
        let spoofed = headers(&[("x-forwarded-for", "9.9.9.9")]);
        assert_eq!(
            client_ip(ip("203.0.113.7"), &spoofed, &[]),
            ip("203.0.113.7")
        );
        let trusted = [parse_trusted("10.0.0.0/8").unwrap()];
        assert_eq!(
            client_ip(ip("203.0.113.7"), &spoofed, &trusted),
            ip("203.0.113.7")
        );
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let trusted = [
            parse_trusted("127.0.0.1").unwrap(),
            parse_trusted("10.0.0.0/8").unwrap(),
        ];
        // The client wrote 6.6.6.6 itself; the first proxy saw 198.51.100.4; an inner proxy 10.1.2.3 forwarded.
        let chain = headers(&[("x-forwarded-for", "6.6.6.6, 198.51.100.4, 10.1.2.3")]);
        assert_eq!(
            client_ip(ip("127.0.0.1"), &chain, &trusted),
            ip("198.51.100.4")
        );
        let split = headers(&[
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-for", "198.51.100.4"),
        ]);
        assert_eq!(
            client_ip(ip("127.0.0.1"), &split, &trusted),
            ip("198.51.100.4")
        );
        let garbage = headers(&[("x-forwarded-for", "198.51.100.4, nonsense")]);
        assert_eq!(
            client_ip(ip("127.0.0.1"), &garbage, &trusted),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn forwarded_is_read_when_there_is_no_x_forwarded_for() {
        let trusted = [parse_trusted("::1").unwrap()];
        let forwarded = headers(&[(
            "forwarded",
            r#"for="[2001:db8::7]:4711";proto=https, for=192.0.2.60:80"#,
        )]);
        assert_eq!(client_ip(ip("::1"), &forwarded, &trusted), ip("192.0.2.60"));
        let all_trusted = [
            parse_trusted("0.0.0.0/0").unwrap(),
            parse_trusted("::/0").unwrap(),
        ];
        assert_eq!(
            client_ip(ip("::1"), &forwarded, &all_trusted),
            ip("2001:db8::7"),
            "every hop trusted: the leftmost"
        );
    }
}
