//! Which callback URLs webhooks may use. Deny by default: only `http` and `https` URLs with a
//! host, at most 512 characters, no credentials, and no address a server should not call on a
//! caller's behalf (loopback, private, link-local including cloud metadata, carrier-grade NAT,
//! unspecified, multicast, broadcast), unless loopback is explicitly allowed for tests and
//! local setups. Host names are checked again, after resolution, at every delivery.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

use crate::Error;

/// Longest callback URL.
pub const MAX_CALLBACK_URL_CHARS: usize = 512;

/// What the server may call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallbackPolicy {
    /// Allow loopback addresses (127.0.0.0/8, ::1, `localhost`): tests and local setups only.
    pub allow_loopback: bool,
}

impl CallbackPolicy {
    /// Whether the server may connect to `address`.
    pub fn address_allowed(&self, address: IpAddr) -> bool {
        match address {
            IpAddr::V4(v4) => self.v4_allowed(v4),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => self.v4_allowed(v4),
                None => self.v6_allowed(v6),
            },
        }
    }

    fn v4_allowed(&self, address: Ipv4Addr) -> bool {
        if address.is_loopback() {
            return self.allow_loopback;
        }
        let [first, second, third, _] = address.octets();
        let carrier_grade_nat = first == 100 && (64..128).contains(&second);
        let protocol_assignments = first == 192 && second == 0 && third == 0;
        let benchmarking = first == 198 && (18..20).contains(&second);
        let reserved = first >= 240;
        !(address.is_private()
            || address.is_link_local()
            || address.is_unspecified()
            || address.is_multicast()
            || address.is_broadcast()
            || carrier_grade_nat
            || protocol_assignments
            || benchmarking
            || reserved
            || first == 0)
    }

    fn v6_allowed(&self, address: Ipv6Addr) -> bool {
        if address.is_loopback() {
            return self.allow_loopback;
        }
        let segments = address.segments();
        let embedded = |high: u16, low: u16| {
            let [a, b] = high.to_be_bytes();
            let [c, d] = low.to_be_bytes();
            Ipv4Addr::new(a, b, c, d)
        };
        // Forms that carry an IPv4 address: IPv4-compatible (::a.b.c.d), NAT64
        // (64:ff9b::/96) and 6to4 (2002::/16); the IPv4 policy decides for them.
        if segments[..6] == [0; 6] {
            return self.v4_allowed(embedded(segments[6], segments[7]));
        }
        if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
            return self.v4_allowed(embedded(segments[6], segments[7]));
        }
        if segments[0] == 0x2002 {
            return self.v4_allowed(embedded(segments[1], segments[2]));
        }
        let first = segments[0];
        let unique_local = first & 0xfe00 == 0xfc00;
        let link_local = first & 0xffc0 == 0xfe80;
        let site_local = first & 0xffc0 == 0xfec0;
        !(address.is_unspecified()
            || address.is_multicast()
            || unique_local
            || link_local
            || site_local)
    }

    /// Checks a callback URL's form and, when its host is an address or `localhost`, that the
    /// address is allowed (400 / 400589 otherwise). Names are checked after resolution at
    /// delivery time.
    pub fn check_url(&self, text: &str) -> Result<Url, Error> {
        if text.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(Error::request_format(
                "`callback_url` must not contain spaces or control characters",
            ));
        }
        if text.chars().count() > MAX_CALLBACK_URL_CHARS {
            return Err(Error::request_format(format!(
                "`callback_url` must be at most {MAX_CALLBACK_URL_CHARS} characters"
            )));
        }
        let url = Url::parse(text).map_err(|error| {
            Error::request_format(format!("`callback_url` is not a URL: {error}"))
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Error::request_format(
                "`callback_url` must be an http or https URL",
            ));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Error::request_format(
                "`callback_url` must not carry credentials",
            ));
        }
        let address = match url.host() {
            None => return Err(Error::request_format("`callback_url` needs a host")),
            Some(Host::Ipv4(v4)) => Some(IpAddr::V4(v4)),
            Some(Host::Ipv6(v6)) => Some(IpAddr::V6(v6)),
            Some(Host::Domain(name)) => {
                let name = name.trim_end_matches('.').to_ascii_lowercase();
                (name == "localhost" || name.ends_with(".localhost"))
                    .then_some(IpAddr::V4(Ipv4Addr::LOCALHOST))
            }
        };
        if let Some(address) = address {
            if !self.address_allowed(address) {
                return Err(Error::request_format(format!(
                    "`callback_url` points at {address}: loopback, private, link-local and \
                     metadata addresses are refused"
                )));
            }
        }
        Ok(url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_refused_by_default() {
        let strict = CallbackPolicy::default();
        for refused in [
            "http://127.0.0.1/x",
            "http://localhost:8080/",
            "http://api.localhost/",
            "http://10.1.2.3/",
            "http://172.16.0.1/",
            "http://192.168.1.1/",
            "http://169.254.169.254/latest/meta-data",
            "http://100.64.0.1/",
            "http://0.0.0.0/",
            "http://[::1]/",
            "http://[fe80::1]/",
            "http://[fd00::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://224.0.0.1/",
            "http://[::7f00:1]/",
            "http://[64:ff9b::a9fe:a9fe]/",
            "http://[2002:a9fe:a9fe::1]/",
            "http://[fec0::1]/",
            "http://192.0.0.8/",
            "http://198.18.0.1/",
            "http://240.0.0.1/",
            "http://93.184.216.34/a\u{0}b",
            " http://93.184.216.34/",
            "http://93.184.216.34/a b",
            "ftp://example.com/",
            "http://user:pw@example.com/",
            "not a url",
        ] {
            assert!(strict.check_url(refused).is_err(), "{refused}");
        }
        let long = format!("https://example.com/{}", "a".repeat(MAX_CALLBACK_URL_CHARS));
        assert!(strict.check_url(&long).is_err());
        for allowed in [
            "https://hooks.example.com/steward",
            "http://93.184.216.34:8080/x",
            "http://[64:ff9b::5db8:d822]/",
            "https://[2606:2800:220:1:248:1893:25c8:1946]/",
        ] {
            assert!(strict.check_url(allowed).is_ok(), "{allowed}");
        }
    }

    #[test]
    fn loopback_can_be_allowed_but_nothing_else_internal() {
        let local = CallbackPolicy {
            allow_loopback: true,
        };
        assert!(local.check_url("http://127.0.0.1:9000/hook").is_ok());
        assert!(local.check_url("http://localhost/hook").is_ok());
        assert!(local.check_url("http://[::1]/").is_ok());
        assert!(local.check_url("http://10.0.0.1/").is_err());
        assert!(local.check_url("http://169.254.169.254/").is_err());
    }
}
