//! Origins (`scheme://host[:port]`), parsed once into one type: the S3 endpoint, the origins
//! allowed to call the worker, a JWKS URL's origin and the request's own origin all go through
//! it. Written by hand: the `url` crate costs about 60 KB of wasm and we need only this much.

use std::fmt;

/// `http` or `https`, the only schemes any of our origins may have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Https => "https",
        }
    }
}

/// A normalised origin, as browsers send it in `Origin`: lowercase, no default port, no
/// trailing `/` (`HTTPS://App.Example.com:443/` is `https://app.example.com`).
#[derive(Clone, PartialEq, Eq)]
pub struct Origin {
    scheme: Scheme,
    /// `scheme://host[:port]`.
    text: String,
}

impl fmt::Debug for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Origin {
    /// An origin and nothing else (a trailing `/` is allowed); `None` otherwise.
    pub fn parse(raw: &str) -> Option<Self> {
        let raw = raw.trim();
        let raw = raw.strip_suffix('/').unwrap_or(raw);
        match Self::parse_url(raw)? {
            (origin, "") => Some(origin),
            _ => None,
        }
    }

    /// The origin of an absolute http(s) URL and what follows it (path, query, fragment).
    pub fn parse_url(url: &str) -> Option<(Self, &str)> {
        let (scheme, rest) = url.split_once(':')?;
        let rest = rest.strip_prefix("//")?;
        let scheme = if scheme.eq_ignore_ascii_case("https") {
            Scheme::Https
        } else if scheme.eq_ignore_ascii_case("http") {
            Scheme::Http
        } else {
            return None;
        };
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        let (host, port) = split_port(authority)?;
        if !is_host(host) {
            return None;
        }
        let default_port = match scheme {
            Scheme::Http => 80,
            Scheme::Https => 443,
        };
        let mut text = String::with_capacity(scheme.as_str().len() + 3 + authority.len());
        text.push_str(scheme.as_str());
        text.push_str("://");
        text.push_str(&host.to_ascii_lowercase());
        if let Some(port) = port.filter(|&p| p != default_port) {
            text.push(':');
            text.push_str(&port.to_string());
        }
        Some((Self { scheme, text }, tail))
    }

    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// `scheme://host[:port]`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// `host[:port]`, as a `Host` header carries it.
    pub fn authority(&self) -> &str {
        &self.text[self.scheme.as_str().len() + 3..]
    }

    /// The host without its port (`[::1]` keeps its brackets).
    pub fn hostname(&self) -> &str {
        split_port(self.authority()).map_or("", |(host, _)| host)
    }

    /// `localhost`, an IPv4 address or a bracketed IPv6 address: hosts with no subdomains.
    pub fn is_ip_or_localhost(&self) -> bool {
        let host = self.hostname();
        host == "localhost" || host.starts_with('[') || ipv4(host).is_some()
    }

    /// Exactly the loopback hosts: `localhost`, `127.0.0.0/8` written as four decimal numbers,
    /// and `[::1]`. (`127.evil.example.com` is not one.)
    pub fn is_loopback(&self) -> bool {
        let host = self.hostname();
        host == "localhost" || host == "[::1]" || ipv4(host).is_some_and(|octets| octets[0] == 127)
    }

    /// True when `header` (an `Origin` header) names this origin.
    pub fn matches(&self, header: &str) -> bool {
        self.text.eq_ignore_ascii_case(header)
    }
}

/// `host` and its port, if any; `None` for an empty host, userinfo or a port that is not one.
fn split_port(authority: &str) -> Option<(&str, Option<u16>)> {
    let port_colon = match authority.rfind(':') {
        // `[::1]` has colons but no port after its bracket.
        Some(i) if !authority[i..].contains(']') => Some(i),
        _ => None,
    };
    let Some(colon) = port_colon else {
        return Some((authority, None));
    };
    let digits = &authority[colon + 1..];
    // Digits only: `u16::from_str` would also take `+80`.
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let port = digits.parse::<u16>().ok().filter(|&p| p != 0)?;
    Some((&authority[..colon], Some(port)))
}

/// A DNS name or IP literal: letters, digits, `.` and `-`, or `[` IPv6 `]`.
fn is_host(host: &str) -> bool {
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return !v6.is_empty() && v6.bytes().all(|b| b.is_ascii_hexdigit() || b == b':');
    }
    !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
}

/// Four decimal octets, each 0 to 255.
fn ipv4(host: &str) -> Option<[u8; 4]> {
    let mut octets = [0u8; 4];
    let mut parts = host.split('.');
    for octet in &mut octets {
        let part = parts.next()?;
        // `0127` is not 127: browsers read a leading zero as octal.
        if part.len() > 1 && part.starts_with('0') {
            return None;
        }
        *octet = part.parse().ok()?;
    }
    parts.next().is_none().then_some(octets)
}

/// `scheme://host[:port]` and the path of a request URL as the runtime serialises it (WHATWG:
/// lowercase, default port omitted, the path starting at the first `/` after `://` and ending
/// at `?` or `#`; empty if there is none). Per request, so it only splits; nothing is
/// allocated, and both are slices of `url`, one after the other.
pub(crate) fn split_request_url(url: &str) -> (&str, &str) {
    let authority_start = url.find(':').map_or(0, |i| i + 3).min(url.len());
    let path_start = url[authority_start..]
        .find('/')
        .map_or(url.len(), |i| authority_start + i);
    let (origin, rest) = url.split_at(path_start);
    (origin, &rest[..rest.find(['?', '#']).unwrap_or(rest.len())])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_normalised_as_browsers_send_them() {
        for (raw, expected) in [
            ("https://app.example.com", "https://app.example.com"),
            (" HTTPS://App.Example.com:443/ ", "https://app.example.com"),
            ("http://localhost:80", "http://localhost"),
            ("http://127.0.0.1:9000", "http://127.0.0.1:9000"),
            (
                "https://alt.example.com:8443",
                "https://alt.example.com:8443",
            ),
            ("http://[::1]:8787", "http://[::1]:8787"),
            ("https://a.example.com:65535", "https://a.example.com:65535"),
        ] {
            assert_eq!(Origin::parse(raw).unwrap().as_str(), expected, "{raw}");
        }
        for bad in [
            "",
            "app.example.com",
            "ftp://example.com",
            "javascript:alert(1)",
            "https://",
            "https://:443",
            "https://a.example.com/path",
            "https://a.example.com?q",
            "https://user@a.example.com",
            "https://a.example.com:0",
            "https://a.example.com:65536",
            "https://a.example.com:8a",
            "https://a.example.com:+80",
            "https://a.example.com:",
            "https://a.example.com:123456",
            "https://a b.example.com",
            "https://[]",
        ] {
            assert_eq!(Origin::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn parts_of_an_origin() {
        let o = Origin::parse("http://127.0.0.1:9000").unwrap();
        assert_eq!(o.scheme(), Scheme::Http);
        assert_eq!(
            (o.authority(), o.hostname()),
            ("127.0.0.1:9000", "127.0.0.1")
        );
        assert!(o.is_ip_or_localhost());
        let v6 = Origin::parse("https://[::1]:8443").unwrap();
        assert_eq!((v6.authority(), v6.hostname()), ("[::1]:8443", "[::1]"));
        let named = Origin::parse("https://minio.example.com").unwrap();
        assert_eq!(named.hostname(), "minio.example.com");
        assert!(!named.is_ip_or_localhost());
        assert!(named.matches("HTTPS://MINIO.example.com"));
        assert_eq!(
            format!("{named} {named:?}"),
            "https://minio.example.com https://minio.example.com"
        );
        assert!(!named.matches("https://minio.example.com:444"));
    }

    #[test]
    fn loopback_means_exactly_the_loopback_hosts() {
        for yes in [
            "http://localhost",
            "http://LOCALHOST:8080",
            "http://127.0.0.1:9",
            "http://127.255.0.1",
            "http://[::1]:80",
        ] {
            assert!(Origin::parse(yes).unwrap().is_loopback(), "{yes}");
        }
        for no in [
            "http://127.evil.example.com",
            "http://127.0.0.1.evil.example.com",
            "http://localhost.evil.example.com",
            "http://128.0.0.1",
            "http://127.0.0.256",
            "http://127.0.0",
            "http://[::2]",
            "http://10.0.0.1",
            "http://0127.0.0.1",
            "http://127.0.0.01",
            "http://127.0.0.1.1",
        ] {
            assert!(!Origin::parse(no).unwrap().is_loopback(), "{no}");
        }
    }

    #[test]
    fn a_url_splits_into_origin_and_the_rest() {
        let (o, rest) = Origin::parse_url("https://id.example.com/.well-known/jwks.json").unwrap();
        assert_eq!(
            (o.as_str(), rest),
            ("https://id.example.com", "/.well-known/jwks.json")
        );
        let (o, rest) = Origin::parse_url("http://127.0.0.1:4000?x").unwrap();
        assert_eq!((o.as_str(), rest), ("http://127.0.0.1:4000", "?x"));
        assert!(Origin::parse_url("https://u:p@id.example.com/").is_none());
    }

    #[test]
    fn request_urls_split_without_parsing() {
        for (url, origin, path) in [
            (
                "http://127.0.0.1:8787/uploads",
                "http://127.0.0.1:8787",
                "/uploads",
            ),
            (
                "https://w.example.com/downloads/a%20b?x=1#f",
                "https://w.example.com",
                "/downloads/a%20b",
            ),
            ("https://w.example.com", "https://w.example.com", ""),
            ("http://a/b", "http://a", "/b"),
        ] {
            assert_eq!(split_request_url(url), (origin, path), "{url}");
        }
    }
}
