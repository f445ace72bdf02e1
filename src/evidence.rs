//! Forensic evidence from a returned original: the Received chain's hop IPs,
//! the origin (the client that submitted the message), and the signs of how
//! it was submitted (authenticated, provider DKIM, SPF/DMARC failures).

use crate::original::Original;

/// What an original tells about where it came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Evidence {
    /// Client address of the first hop received from outside.
    pub origin_ip: Option<String>,
    /// Public hop IPs, origin first.
    pub relay_ips: Vec<String>,
    /// Labelled authentication facts, e.g. `esmtpsa`, `dkim=example.jp`.
    pub auth: Vec<String>,
}

/// Reads the evidence of one original.
pub fn analyse(o: &Original) -> Evidence {
    let mut ev = Evidence::default();
    // Received fields are listed newest first; the origin is the oldest.
    for r in o.received.iter().rev() {
        for ip in ips_in(r) {
            if is_public(&ip) && !ev.relay_ips.contains(&ip) {
                ev.relay_ips.push(ip);
            }
        }
        let lower = r.to_ascii_lowercase();
        if lower.contains(" with esmtpa")
            || lower.contains(" with esmtpsa")
            || lower.contains(" with smtpa")
        {
            push(&mut ev.auth, "smtp-auth");
        }
    }
    ev.origin_ip = ev.relay_ips.first().cloned();
    for d in &o.dkim_domains {
        push(&mut ev.auth, &format!("dkim:{d}"));
    }
    ev
}

fn push(v: &mut Vec<String>, s: &str) {
    if !v.iter().any(|x| x == s) {
        v.push(s.to_string());
    }
}

/// IPv4 addresses in brackets or parentheses of a Received field.
fn ips_in(r: &str) -> Vec<String> {
    let mut out = Vec::new();
    for piece in r.split(['[', ']', '(', ')', ' ', ';']) {
        let p = piece.trim().trim_start_matches("IPv6:");
        if let Ok(ip) = p.parse::<std::net::IpAddr>() {
            out.push(ip.to_string());
        }
    }
    out
}

/// Not private, loopback, link-local, CGNAT, documentation-free check
/// (documentation ranges are kept: samples use them as public addresses).
pub fn is_public(ip: &str) -> bool {
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(v4)) => {
            let o = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || o[0] == 0
                || o[0] >= 224)
        }
        Ok(std::net::IpAddr::V6(v6)) => {
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80)
        }
        Err(_) => false,
    }
}
