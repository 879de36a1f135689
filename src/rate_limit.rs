//! Whose count a request goes to: the token's `sub` with auth on, else the client's address.
//!
//! An IPv6 caller is counted by its /64: one subscriber or host is routinely given a whole /64
//! and can pick any address in it, so a key per address would hand it 2^64 fresh counts.
//! An IPv4 address (also one written IPv4-mapped, `::ffff:a.b.c.d`) is counted as itself.

use std::net::{IpAddr, Ipv6Addr};

/// The rate limiter's key for a caller (`sub`), or for an anonymous request from `client_ip`
/// (Cloudflare's `CF-Connecting-IP`, absent only outside Cloudflare).
pub(crate) fn key(sub: Option<&str>, client_ip: Option<&str>) -> String {
    match sub {
        Some(sub) => ["sub:", sub].concat(),
        None => ["ip:", &address_key(client_ip.unwrap_or_default())].concat(),
    }
}

/// The address as counted: an IPv6 address by its /64 (`2001:db8:1:2::/64`), an IPv4 one as
/// is; text that is no address is kept as it is (it cannot come from Cloudflare).
fn address_key(raw: &str) -> String {
    let raw = raw.trim();
    match raw.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => format!("{}/64", network_64(v6)),
        },
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Err(_) => raw.to_owned(),
    }
}

/// The address with its low 64 bits (the interface identifier) zeroed.
fn network_64(address: Ipv6Addr) -> Ipv6Addr {
    Ipv6Addr::from(u128::from(address) & !u128::from(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caller_is_counted_by_its_sub_wherever_it_calls_from() {
        assert_eq!(key(Some("alice"), Some("203.0.113.7")), "sub:alice");
        assert_eq!(key(Some("alice"), None), "sub:alice");
    }

    #[test]
    fn ipv6_addresses_of_one_64_share_a_key() {
        let a = key(None, Some("2001:db8:1:2:aaaa:bbbb:cccc:dddd"));
        assert_eq!(a, "ip:2001:db8:1:2::/64");
        for same in [
            "2001:db8:1:2::1",
            "2001:0db8:0001:0002:ffff:ffff:ffff:ffff",
            "2001:DB8:1:2::",
            " 2001:db8:1:2:0:0:0:7 ",
        ] {
            assert_eq!(key(None, Some(same)), a, "{same}");
        }
        for other in ["2001:db8:1:3::1", "2001:db8:1:1:ffff::1", "2001:db9:1:2::1"] {
            assert_ne!(key(None, Some(other)), a, "{other}");
        }
        assert_eq!(key(None, Some("::1")), "ip:::/64");
    }

    #[test]
    fn ipv4_addresses_are_counted_one_by_one() {
        assert_eq!(key(None, Some("203.0.113.7")), "ip:203.0.113.7");
        assert_ne!(
            key(None, Some("203.0.113.8")),
            key(None, Some("203.0.113.7"))
        );
        // The same address written IPv4-mapped is the same caller, not a /64 of its own.
        assert_eq!(key(None, Some("::ffff:203.0.113.7")), "ip:203.0.113.7");
    }

    #[test]
    fn what_is_no_address_is_kept_as_it_came() {
        assert_eq!(key(None, None), "ip:");
        assert_eq!(key(None, Some("unknown")), "ip:unknown");
    }
}
