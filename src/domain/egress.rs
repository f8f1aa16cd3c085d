//! Where the server may send a request that someone else aimed (an agent's webhook URL): never inside the
//! network it runs in. Loopback, private, shared (CGNAT), link-local (cloud metadata at 169.254.169.254),
//! unique-local, multicast, reserved and documentation addresses are refused, in IPv4 and IPv6 and in every
//! form that carries an IPv4 address inside IPv6 (mapped, compatible, NAT64, 6to4). Plain `http://` is
//! refused too. An operator may allow both (`webhook_allow_private`): the demo and the tests do.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    PlainHttp,
    PrivateAddress,
    NotAUrl,
}

impl fmt::Display for Refused {
    /// Shown to owners as it is: what was refused, never connection details.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Refused::PlainHttp => "refused: plain http (https is required)",
            Refused::PrivateAddress => "refused: private address",
            Refused::NotAUrl => "refused: not an http(s) URL",
        })
    }
}

impl std::error::Error for Refused {}

/// The operator's setting, and the checks made under it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Egress {
    pub allow_private: bool,
}

impl Egress {
    /// The URL as written: its scheme, and its host where that is an address. Names are checked once
    /// resolved, at send time (`address`), so a name cannot be re-pointed inside after this check.
    pub fn url(&self, raw: &str) -> Result<url::Url, Refused> {
        let url = url::Url::parse(raw).map_err(|_| Refused::NotAUrl)?;
        match url.scheme() {
            "https" => {}
            "http" if self.allow_private => {}
            "http" => return Err(Refused::PlainHttp),
            _ => return Err(Refused::NotAUrl),
        }
        match url.host() {
            None => Err(Refused::NotAUrl),
            Some(url::Host::Ipv4(ip)) => self.address(IpAddr::V4(ip)).map(|()| url),
            Some(url::Host::Ipv6(ip)) => self.address(IpAddr::V6(ip)).map(|()| url),
            Some(url::Host::Domain(_)) => Ok(url),
        }
    }

    pub fn address(&self, ip: IpAddr) -> Result<(), Refused> {
        if self.allow_private || !internal(ip) {
            Ok(())
        } else {
            Err(Refused::PrivateAddress)
        }
    }
}

/// Whether `ip` is anything but a public unicast address.
pub fn internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => internal_v4(v4),
        IpAddr::V6(v6) => internal_v6(v6),
    }
}

fn internal_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0 // "this network"
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT; some clouds' metadata)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240 // reserved
}

fn internal_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    // IPv4 carried inside IPv6: mapped (::ffff:a.b.c.d), compatible (::a.b.c.d), NAT64 (64:ff9b::/96).
    let embedded = |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    if s[..5] == [0; 5] && (s[5] == 0xffff || s[5] == 0) && !(s[5] == 0 && s[6] == 0) {
        return internal_v4(embedded(s[6], s[7]));
    }
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0; 4] {
        return internal_v4(embedded(s[6], s[7]));
    }
    // 6to4 (2002::/16) carries an IPv4 address in its next 32 bits.
    if s[0] == 0x2002 && internal_v4(embedded(s[1], s[2])) {
        return true;
    }
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00 // unique-local (fd00:ec2::254 is a cloud's metadata)
        || (s[0] & 0xffc0) == 0xfe80 // link-local
        || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated, still routed inside some networks)
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0x0100 && s[1..4] == [0; 3]) // discard-only
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inside_addresses_are_refused_in_every_form() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.100.100.200",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fd00:ec2::254",
            "fc00::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::10.0.0.1",
            "2002:7f00:1::",
        ] {
            assert!(internal(ip.parse().unwrap()), "{ip} must be refused");
        }
        for ip in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "::ffff:93.184.216.34", "64:ff9b::1.1.1.1"] {
            assert!(!internal(ip.parse().unwrap()), "{ip} is public");
        }
    }

    #[test]
    fn urls_need_https_and_a_public_host_unless_the_operator_allows() {
        let strict = Egress::default();
        assert!(strict.url("https://agent.example.com/hook").is_ok());
        assert_eq!(strict.url("http://agent.example.com/hook").err(), Some(Refused::PlainHttp));
        assert_eq!(strict.url("https://127.0.0.1/hook").err(), Some(Refused::PrivateAddress));
        assert_eq!(strict.url("https://[::ffff:10.0.0.1]/hook").err(), Some(Refused::PrivateAddress));
        assert_eq!(strict.url("https://2130706433/hook").err(), Some(Refused::PrivateAddress), "decimal 127.0.0.1");
        assert_eq!(strict.url("ftp://agent.example.com").err(), Some(Refused::NotAUrl));
        let open = Egress { allow_private: true };
        assert!(open.url("http://127.0.0.1:9/hook").is_ok());
        assert_eq!(Refused::PrivateAddress.to_string(), "refused: private address");
    }
}
