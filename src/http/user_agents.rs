//! "Firefox on Linux": a session's `User-Agent` as the account page names it, so a person can tell their
//! sessions apart. A dozen substring checks rather than a parser crate: the page needs only the browser family
//! and the system, and the crates that do more carry a regex database of a megabyte or two.

/// The browser families, most specific first: Edge and Opera also say "Chrome", Chrome also says "Safari".
const BROWSERS: [(&str, &str); 6] = [
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("Safari/", "Safari"),
];

/// The systems, most specific first: Android also says "Linux", iOS also says "Mac OS X".
const SYSTEMS: [(&str, &str); 7] = [
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("CrOS", "ChromeOS"),
    ("Windows", "Windows"),
    ("Macintosh", "macOS"),
    ("Linux", "Linux"),
];

/// How much of an unrecognised agent (a script's `curl/8.5.0`) is shown.
const OTHER_MAX_CHARS: usize = 40;

/// A short human name for a `User-Agent`: "Chrome on Windows", "Firefox", or the agent's first word for scripts.
pub fn describe(user_agent: &str) -> String {
    let found = |table: &[(&'static str, &'static str)]| {
        table
            .iter()
            .find(|(marker, _)| user_agent.contains(marker))
            .map(|(_, name)| *name)
    };
    match (found(&BROWSERS), found(&SYSTEMS)) {
        (Some(browser), Some(system)) => format!("{browser} on {system}"),
        (Some(browser), None) => browser.to_owned(),
        (None, Some(system)) => format!("A browser on {system}"),
        (None, None) => {
            let first_word = user_agent.split_whitespace().next().unwrap_or_default();
            match first_word.chars().count() {
                0 => "An unknown browser".to_owned(),
                n if n > OTHER_MAX_CHARS => {
                    let cut: String = first_word.chars().take(OTHER_MAX_CHARS).collect();
                    format!("{cut}…")
                }
                _ => first_word.to_owned(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::describe;

    #[test]
    fn browsers_and_systems_are_named() {
        let cases = [
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
                "Chrome on Linux",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
                "Edge on Windows",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.7; rv:133.0) Gecko/20100101 Firefox/133.0",
                "Firefox on macOS",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
                "Safari on iOS",
            ),
            (
                "Mozilla/5.0 (Linux; Android 15) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
                "Chrome on Android",
            ),
            ("curl/8.5.0", "curl/8.5.0"),
            ("", "An unknown browser"),
        ];
        for (agent, name) in cases {
            assert_eq!(describe(agent), name, "{agent}");
        }
    }

    #[test]
    fn a_long_unknown_agent_is_cut() {
        let long = "x".repeat(500);
        let named = describe(&long);
        assert_eq!(named.chars().count(), 41, "{named}");
        assert!(named.ends_with('…'));
    }
}
