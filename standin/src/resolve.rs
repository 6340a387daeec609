//! Host name resolution that also works in a `FROM scratch` image.
//!
//! The binary is linked statically against glibc. glibc ≥ 2.34 has its
//! `files` and `dns` NSS modules built in, and without `/etc/nsswitch.conf`
//! it uses them, so `getaddrinfo` resolves Docker service names in a scratch
//! image (checked with glibc 2.36, Debian bookworm). A static binary linked
//! against an older glibc would need to `dlopen` `libnss_dns.so`, which a
//! scratch image lacks. So [`resolve`] tries `getaddrinfo` first and falls
//! back to its own lookup: `/etc/hosts`, then a DNS `A` query over UDP to
//! the name servers of `/etc/resolv.conf` (Docker's embedded server,
//! `127.0.0.11`, on user-defined networks). Setting `STANDIN_RESOLVER=own`
//! skips `getaddrinfo`, to exercise the fallback.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs, UdpSocket};
use std::time::Duration;

/// How long to wait for one DNS answer.
const DNS_TIMEOUT: Duration = Duration::from_secs(2);

/// Resolves `host` to socket addresses with `port`.
pub fn resolve(host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let skip_libc = std::env::var("STANDIN_RESOLVER").is_ok_and(|v| v == "own");
    let libc_result = if skip_libc {
        Err(io::Error::other(
            "getaddrinfo skipped (STANDIN_RESOLVER=own)",
        ))
    } else {
        (host, port).to_socket_addrs()
    };
    let libc_error = match libc_result {
        Ok(addrs) => {
            let addrs: Vec<SocketAddr> = addrs.collect();
            if !addrs.is_empty() {
                return Ok(addrs);
            }
            "no address".to_owned()
        }
        Err(e) => e.to_string(),
    };
    match fallback(host) {
        Ok(ips) if !ips.is_empty() => Ok(ips
            .into_iter()
            .map(|ip| SocketAddr::new(ip, port))
            .collect()),
        Ok(_) => Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("cannot resolve `{host}`: {libc_error}; not in /etc/hosts and no DNS answer"),
        )),
        Err(e) => Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("cannot resolve `{host}`: {libc_error}; own lookup: {e}"),
        )),
    }
}

/// The lookup used when `getaddrinfo` fails: `/etc/hosts`, then DNS.
fn fallback(host: &str) -> io::Result<Vec<IpAddr>> {
    if let Ok(hosts) = std::fs::read_to_string("/etc/hosts") {
        let ips = hosts_lookup(&hosts, host);
        if !ips.is_empty() {
            return Ok(ips);
        }
    }
    let conf = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    let conf = ResolvConf::parse(&conf);
    let mut last_error = io::Error::new(io::ErrorKind::NotFound, "no name server");
    for name in conf.candidates(host) {
        for server in &conf.nameservers {
            match dns_query_a(*server, &name) {
                Ok(ips) if !ips.is_empty() => return Ok(ips.into_iter().map(IpAddr::V4).collect()),
                Ok(_) => {}
                Err(e) => last_error = e,
            }
        }
    }
    if conf.nameservers.is_empty() {
        return Err(last_error);
    }
    Ok(Vec::new())
}

/// The addresses `/etc/hosts` (given as `content`) lists for `name`.
pub fn hosts_lookup(content: &str, name: &str) -> Vec<IpAddr> {
    let mut ips = Vec::new();
    for line in content.lines() {
        let line = line.split('#').next().unwrap_or_default();
        let mut fields = line.split_whitespace();
        let Some(Ok(ip)) = fields.next().map(str::parse::<IpAddr>) else {
            continue;
        };
        if fields.any(|alias| alias.eq_ignore_ascii_case(name)) && !ips.contains(&ip) {
            ips.push(ip);
        }
    }
    ips
}

/// What matters of `/etc/resolv.conf`.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ResolvConf {
    /// `nameserver` lines (IPv4 and IPv6).
    pub nameservers: Vec<IpAddr>,
    /// The `search` (or `domain`) list.
    pub search: Vec<String>,
}

impl ResolvConf {
    /// Parses the file's content; unknown lines are ignored.
    pub fn parse(content: &str) -> Self {
        let mut conf = ResolvConf::default();
        for line in content.lines() {
            let mut fields = line.split_whitespace();
            match fields.next() {
                Some("nameserver") => {
                    if let Some(Ok(ip)) = fields.next().map(str::parse::<IpAddr>) {
                        conf.nameservers.push(ip);
                    }
                }
                Some("search" | "domain") => {
                    conf.search = fields.map(|d| d.trim_end_matches('.').to_owned()).collect();
                }
                _ => {}
            }
        }
        conf
    }

    /// The names to query for `host`: the name itself, then with each
    /// search domain when it has no dot (Docker's server answers bare
    /// service names).
    pub fn candidates(&self, host: &str) -> Vec<String> {
        let host = host.trim_end_matches('.');
        let mut names = vec![host.to_owned()];
        if !host.contains('.') {
            names.extend(self.search.iter().map(|d| format!("{host}.{d}")));
        }
        names
    }
}

/// Sends one `A` query for `name` to `server` port 53 and returns the
/// IPv4 addresses of the answer (empty for NXDOMAIN or no `A` record).
fn dns_query_a(server: IpAddr, name: &str) -> io::Result<Vec<Ipv4Addr>> {
    let bind: SocketAddr = if server.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket = UdpSocket::bind(bind)?;
    socket.set_read_timeout(Some(DNS_TIMEOUT))?;
    socket.connect((server, 53))?;
    let id = query_id();
    let query = build_query(id, name).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("bad host name `{name}`"),
        )
    })?;
    let mut buf = [0u8; 1500];
    for _attempt in 0..2 {
        socket.send(&query)?;
        match socket.recv(&mut buf) {
            Ok(n) => {
                return parse_answer(id, buf.get(..n).unwrap_or_default())
                    .map_err(|why| io::Error::new(io::ErrorKind::InvalidData, why));
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::TimedOut,
        format!("no answer from name server {server}"),
    ))
}

/// A query id that differs between calls and processes.
fn query_id() -> u16 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    // Keeping only the low 16 bits is the point.
    #[allow(clippy::cast_possible_truncation)]
    let id = (nanos ^ std::process::id().rotate_left(16)) as u16;
    id
}

/// Builds a recursive `A`/`IN` query; `None` for a name that cannot be
/// encoded (empty label, label over 63 bytes).
pub fn build_query(id: u16, name: &str) -> Option<Vec<u8>> {
    let mut packet = Vec::with_capacity(18 + name.len());
    packet.extend_from_slice(&id.to_be_bytes());
    packet.extend_from_slice(&[0x01, 0x00]); // flags: recursion desired
    packet.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]); // 1 question
    for label in name.trim_end_matches('.').split('.') {
        let len = u8::try_from(label.len())
            .ok()
            .filter(|l| (1..=63).contains(l))?;
        packet.push(len);
        packet.extend_from_slice(label.as_bytes());
    }
    packet.push(0);
    packet.extend_from_slice(&[0, 1, 0, 1]); // QTYPE A, QCLASS IN
    Some(packet)
}

/// Extracts the `A` records of a response to query `id`.
pub fn parse_answer(id: u16, packet: &[u8]) -> Result<Vec<Ipv4Addr>, String> {
    let u16_at = |at: usize| -> Result<u16, String> {
        match packet.get(at..at + 2) {
            Some(&[a, b]) => Ok(u16::from_be_bytes([a, b])),
            _ => Err("truncated DNS packet".to_owned()),
        }
    };
    if u16_at(0)? != id {
        return Err("DNS answer to another query".to_owned());
    }
    let flags = u16_at(2)?;
    if flags & 0x8000 == 0 {
        return Err("DNS packet is not a response".to_owned());
    }
    match flags & 0x000f {
        0 => {}
        3 => return Ok(Vec::new()), // NXDOMAIN
        rcode => return Err(format!("DNS error code {rcode}")),
    }
    let questions = u16_at(4)?;
    let answers = u16_at(6)?;
    let mut at = 12;
    for _ in 0..questions {
        at = skip_name(packet, at)? + 4;
    }
    let mut ips = Vec::new();
    for _ in 0..answers {
        at = skip_name(packet, at)?;
        let rtype = u16_at(at)?;
        let class = u16_at(at + 2)?;
        let rdlength = usize::from(u16_at(at + 8)?);
        let rdata = packet
            .get(at + 10..at + 10 + rdlength)
            .ok_or_else(|| "truncated DNS record".to_owned())?;
        if let (1, 1, &[a, b, c, d]) = (rtype, class, rdata) {
            ips.push(Ipv4Addr::new(a, b, c, d));
        }
        at += 10 + rdlength;
    }
    Ok(ips)
}

/// Returns the offset just past the (possibly compressed) name at `at`.
fn skip_name(packet: &[u8], mut at: usize) -> Result<usize, String> {
    loop {
        let len = *packet
            .get(at)
            .ok_or_else(|| "truncated DNS name".to_owned())?;
        match len {
            0 => return Ok(at + 1),
            l if l & 0xc0 == 0xc0 => return Ok(at + 2),
            l if l & 0xc0 == 0 => at += 1 + usize::from(l),
            _ => return Err("bad DNS label".to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn looks_names_up_in_hosts_files() {
        let hosts = "127.0.0.1\tlocalhost\n::1 localhost ip6-localhost\n# 10.0.0.9 commented\n\
                     172.18.0.3\tabc123 web # trailing\nnot-an-ip foo\n";
        assert_eq!(
            hosts_lookup(hosts, "localhost"),
            vec![
                IpAddr::from([127, 0, 0, 1]),
                "::1".parse::<IpAddr>().expect("IPv6")
            ]
        );
        assert_eq!(
            hosts_lookup(hosts, "WEB"),
            vec![IpAddr::from([172, 18, 0, 3])]
        );
        assert!(hosts_lookup(hosts, "commented").is_empty());
        assert!(hosts_lookup(hosts, "foo").is_empty());
    }

    #[test]
    fn parses_resolv_conf() {
        let conf = ResolvConf::parse(
            "# Generated by Docker\nsearch example.org. lan\nnameserver 127.0.0.11\nnameserver bogus\noptions ndots:0\n",
        );
        assert_eq!(conf.nameservers, vec![IpAddr::from([127, 0, 0, 11])]);
        assert_eq!(
            conf.candidates("postgres"),
            vec!["postgres", "postgres.example.org", "postgres.lan"]
        );
        assert_eq!(conf.candidates("db.internal."), vec!["db.internal"]);
    }

    #[test]
    fn builds_a_query() {
        let q = build_query(0xabcd, "pg.lan").expect("valid name");
        assert_eq!(
            q,
            vec![
                0xab, 0xcd, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 2, b'p', b'g', 3, b'l', b'a', b'n', 0, 0,
                1, 0, 1
            ]
        );
        assert!(build_query(1, "a..b").is_none());
        assert!(build_query(1, &"x".repeat(64)).is_none());
    }

    #[test]
    fn parses_an_answer_with_compression_and_cname() {
        let mut p = build_query(7, "pg").expect("valid name");
        p[2] = 0x81; // response, recursion desired
        p[3] = 0x80; // recursion available, rcode 0
        p[7] = 2; // two answers
        // CNAME pg -> 0x0c pointer target, skipped
        p.extend_from_slice(&[0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 2, 0xc0, 12]);
        // A pg 172.18.0.2
        p.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 2, 88, 0, 4, 172, 18, 0, 2]);
        assert_eq!(parse_answer(7, &p), Ok(vec![Ipv4Addr::new(172, 18, 0, 2)]));
        assert!(parse_answer(8, &p).is_err());
        assert!(parse_answer(7, &p[..p.len() - 2]).is_err());
    }

    #[test]
    fn nxdomain_is_an_empty_answer() {
        let mut p = build_query(9, "nope").expect("valid name");
        p[2] = 0x81;
        p[3] = 0x83;
        assert_eq!(parse_answer(9, &p), Ok(Vec::new()));
        p[3] = 0x82;
        assert!(parse_answer(9, &p).is_err());
    }

    #[test]
    fn resolves_literals_without_lookup() {
        let addrs = resolve("127.0.0.1", 5432).expect("literal");
        assert_eq!(addrs, vec![SocketAddr::from(([127, 0, 0, 1], 5432))]);
        let addrs = resolve("[::1]", 80).expect("literal");
        assert_eq!(addrs[0].port(), 80);
    }
}
