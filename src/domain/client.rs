//! Who the client of a request is: the connection's address, or, when that is a trusted proxy, the
//! right-most `X-Forwarded-For` entry that is not itself a trusted proxy (entries left of it are whatever
//! the client chose to send, so they name nobody).

use super::Invalid;
use std::net::IpAddr;

/// An address block, e.g. `10.0.0.0/8` or `::1/128` (a bare address is a block of one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    bits: u8,
}

impl Cidr {
    pub fn parse(text: &str) -> Result<Cidr, Invalid> {
        let bad = || Invalid::new(format!("\"{text}\" is not an address block such as 10.0.0.0/8"));
        let (addr, bits) = text.trim().split_once('/').map_or((text.trim(), None), |(a, b)| (a, Some(b)));
        let net: IpAddr = addr.parse().map_err(|_| bad())?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let bits = match bits {
            Some(b) => b.parse::<u8>().ok().filter(|b| *b <= max).ok_or_else(bad)?,
            None => max,
        };
        Ok(Cidr { net, bits })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let (net, ip, width) = match (self.net, ip.to_canonical()) {
            (IpAddr::V4(n), IpAddr::V4(i)) => (u128::from(u32::from(n)), u128::from(u32::from(i)), 32u32),
            (IpAddr::V6(n), IpAddr::V6(i)) => (u128::from(n), u128::from(i), 128u32),
            _ => return false,
        };
        let shift = width - u32::from(self.bits);
        shift >= width || (net >> shift) == (ip >> shift)
    }
}

/// Parses the configured `trusted_proxies`, naming the first entry that is not a block.
pub fn trusted(blocks: &[String]) -> Result<Vec<Cidr>, Invalid> {
    blocks.iter().map(|b| Cidr::parse(b)).collect()
}

/// The client of a request from `peer` carrying these `X-Forwarded-For` header values (in order).
pub fn client(peer: IpAddr, forwarded_for: &[&str], trusted: &[Cidr]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let hops: Vec<&str> = forwarded_for.iter().flat_map(|v| v.split(',')).map(str::trim).collect();
    for hop in hops.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) if is_trusted(ip) => continue,
            Ok(ip) => return ip.to_canonical(),
            // A hop that is not an address cannot be told apart from a forgery: the proxy is the client.
            Err(_) => return peer,
        }
    }
    peer
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or_else(|_| panic!("{s}"))
    }

    #[test]
    fn blocks_parse_and_match() {
        let b = Cidr::parse("10.0.0.0/8").unwrap_or_else(|e| panic!("{e}"));
        assert!(b.contains(ip("10.1.2.3")) && !b.contains(ip("11.0.0.1")));
        assert!(Cidr::parse("192.0.2.7").is_ok_and(|c| c.contains(ip("192.0.2.7")) && !c.contains(ip("192.0.2.8"))));
        assert!(Cidr::parse("0.0.0.0/0").is_ok_and(|c| c.contains(ip("8.8.8.8"))));
        assert!(Cidr::parse("::1/128").is_ok_and(|c| c.contains(ip("::1"))));
        assert!(Cidr::parse("10.0.0.0/33").is_err() && Cidr::parse("proxy").is_err());
    }

    #[test]
    fn forwarded_for_counts_only_from_a_trusted_peer() {
        let trusted = trusted(&["10.0.0.0/8".into()]).unwrap_or_default();
        assert_eq!(client(ip("203.0.113.9"), &["198.51.100.1"], &trusted), ip("203.0.113.9"));
        assert_eq!(client(ip("10.0.0.2"), &["198.51.100.1"], &trusted), ip("198.51.100.1"));
        // The client may prepend anything; the right-most untrusted hop is what the proxy saw.
        assert_eq!(client(ip("10.0.0.2"), &["1.2.3.4, 198.51.100.1, 10.0.0.9"], &trusted), ip("198.51.100.1"));
        assert_eq!(client(ip("10.0.0.2"), &["1.2.3.4", "198.51.100.1"], &trusted), ip("198.51.100.1"));
        assert_eq!(client(ip("10.0.0.2"), &[], &trusted), ip("10.0.0.2"));
        assert_eq!(client(ip("10.0.0.2"), &["garbage"], &trusted), ip("10.0.0.2"));
    }
}
