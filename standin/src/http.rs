//! A minimal HTTP/1.1 server: request-head parsing, response writing and a
//! thread-per-connection accept loop. Every response closes the connection
//! (`Connection: close`), which keeps the server simple and is valid HTTP/1.1.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

/// Longest request head (request line and headers) accepted, in bytes.
const MAX_HEAD: u64 = 64 * 1024;
/// Most headers accepted in one request.
const MAX_HEADERS: usize = 100;
/// Largest request body read (and discarded) before answering.
const MAX_DISCARDED_BODY: u64 = 1024 * 1024;
/// How long a client may take to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// A parsed request head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The method, as sent (`GET`).
    pub method: String,
    /// The request target, path and query (`/?test=1`).
    pub target: String,
    /// The protocol version (`HTTP/1.1`).
    pub version: String,
    /// Header fields in order, names as sent, values trimmed.
    pub headers: Vec<(String, String)>,
}

impl Request {
    /// The value of the first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The path of the target, without the query string.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }
}

/// Why a request head could not be read.
#[derive(Debug)]
pub enum ParseError {
    /// The connection closed before any request byte.
    Closed,
    /// Reading failed (including a read timeout).
    Io(io::Error),
    /// The head is not valid HTTP/1.x.
    Malformed(&'static str),
    /// The head is longer than [`MAX_HEAD`] or has too many headers.
    TooLarge,
}

/// Reads one request head (up to and including the empty line).
pub fn read_request<R: BufRead>(reader: &mut R) -> Result<Request, ParseError> {
    let mut head = reader.take(MAX_HEAD);
    let mut line = String::new();
    // RFC 9112 2.2: ignore at least one empty line before the request line.
    let request_line = loop {
        line.clear();
        let n = read_line(&mut head, &mut line)?;
        if n == 0 {
            return Err(ParseError::Closed);
        }
        let trimmed = line.trim_end_matches(['\r', '\n']);
        if !trimmed.is_empty() {
            break trimmed.to_owned();
        }
    };
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ParseError::Malformed(
            "request line is not `METHOD TARGET VERSION`",
        ));
    };
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(ParseError::Malformed("bad method"));
    }
    if !(target.starts_with('/') || target == "*" || target.contains("://")) {
        return Err(ParseError::Malformed("bad request target"));
    }
    if !matches!(version, "HTTP/1.0" | "HTTP/1.1") {
        return Err(ParseError::Malformed("unsupported HTTP version"));
    }
    let mut headers = Vec::new();
    loop {
        line.clear();
        if read_line(&mut head, &mut line)? == 0 {
            return Err(ParseError::Malformed("connection closed inside the head"));
        }
        if !line.ends_with('\n') {
            return Err(ParseError::TooLarge);
        }
        let field = line.trim_end_matches(['\r', '\n']);
        if field.is_empty() {
            break;
        }
        if field.starts_with([' ', '\t']) {
            return Err(ParseError::Malformed("obsolete header line folding"));
        }
        let Some((name, value)) = field.split_once(':') else {
            return Err(ParseError::Malformed("header line without a colon"));
        };
        if name.is_empty() || name.contains([' ', '\t']) {
            return Err(ParseError::Malformed("bad header name"));
        }
        if headers.len() == MAX_HEADERS {
            return Err(ParseError::TooLarge);
        }
        headers.push((name.to_owned(), value.trim_matches([' ', '\t']).to_owned()));
    }
    Ok(Request {
        method: method.to_owned(),
        target: target.to_owned(),
        version: version.to_owned(),
        headers,
    })
}

/// Reads a line as (lossy) UTF-8, mapping errors into [`ParseError`].
fn read_line<R: BufRead>(reader: &mut R, line: &mut String) -> Result<usize, ParseError> {
    let mut bytes = Vec::new();
    let n = reader
        .read_until(b'\n', &mut bytes)
        .map_err(ParseError::Io)?;
    line.push_str(&String::from_utf8_lossy(&bytes));
    Ok(n)
}

/// A response to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Extra header fields (`Content-Length` and `Connection` are added).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// A `text/plain` response.
    pub fn text(status: u16, body: impl Into<String>) -> Self {
        Response {
            status,
            headers: vec![(
                "Content-Type".to_owned(),
                "text/plain; charset=utf-8".to_owned(),
            )],
            body: body.into().into_bytes(),
        }
    }

    /// An `application/json` response.
    pub fn json(status: u16, body: String) -> Self {
        Response {
            status,
            headers: vec![("Content-Type".to_owned(), "application/json".to_owned())],
            body: body.into_bytes(),
        }
    }

    /// Adds a header field.
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

/// The reason phrase of the status codes these servers send.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

/// Writes `response`; without its body when `head_only` (a `HEAD` request).
pub fn write_response<W: Write>(
    out: &mut W,
    response: &Response,
    head_only: bool,
) -> io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\n",
        response.status,
        reason(response.status)
    );
    for (name, value) in &response.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\nServer: mrs-standin\r\n\r\n",
        response.body.len()
    ));
    out.write_all(head.as_bytes())?;
    if !head_only {
        out.write_all(&response.body)?;
    }
    out.flush()
}

/// Serves `listener` forever, one thread per connection, answering each
/// request with `handler` and logging one line per request on stdout:
/// `{name}: {peer} "{method} {target} {version}" host={host} status={status}`.
pub fn serve<F>(listener: TcpListener, name: &'static str, handler: F)
where
    F: Fn(&Request) -> Response + Send + Sync + 'static,
{
    let handler = Arc::new(handler);
    for stream in listener.incoming() {
        match stream {
            Ok(stream) => {
                let handler = Arc::clone(&handler);
                let spawned = std::thread::Builder::new()
                    .name("http".to_owned())
                    .spawn(move || handle_connection(stream, name, &*handler));
                if let Err(e) = spawned {
                    eprintln!("{name}: cannot start a connection thread: {e}");
                }
            }
            Err(e) => {
                eprintln!("{name}: accept failed: {e}");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

/// Reads one request from `stream`, answers it and closes the connection.
fn handle_connection(stream: TcpStream, name: &str, handler: &dyn Fn(&Request) -> Response) {
    let peer = stream
        .peer_addr()
        .map_or_else(|_| "?".to_owned(), |a: SocketAddr| a.to_string());
    if let Err(e) = stream.set_read_timeout(Some(READ_TIMEOUT)) {
        eprintln!("{name}: {peer}: {e}");
        return;
    }
    let mut reader = BufReader::new(&stream);
    let (response, request) = match read_request(&mut reader) {
        Ok(request) => {
            discard_body(&mut reader, &request);
            (handler(&request), Some(request))
        }
        Err(ParseError::Closed) => return,
        Err(ParseError::Io(e)) => {
            eprintln!("{name}: {peer}: reading the request: {e}");
            return;
        }
        Err(ParseError::Malformed(why)) => {
            (Response::text(400, format!("bad request: {why}\n")), None)
        }
        Err(ParseError::TooLarge) => (Response::text(431, "request head too large\n"), None),
    };
    let head_only = request.as_ref().is_some_and(|r| r.method == "HEAD");
    match &request {
        Some(r) => println!(
            "{name}: {peer} \"{} {} {}\" host={} status={}",
            r.method,
            r.target,
            r.version,
            r.header("Host").unwrap_or("-"),
            response.status
        ),
        None => println!(
            "{name}: {peer} (malformed request) status={}",
            response.status
        ),
    }
    let mut writer = &stream;
    if let Err(e) = write_response(&mut writer, &response, head_only) {
        eprintln!("{name}: {peer}: writing the response: {e}");
    }
}

/// Reads and drops a `Content-Length` body (up to a limit), so that closing
/// the socket with unread data does not reset the connection under the
/// response.
fn discard_body<R: Read>(reader: &mut R, request: &Request) {
    let length = request
        .header("Content-Length")
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0)
        .min(MAX_DISCARDED_BODY);
    if length > 0 {
        let _ = io::copy(&mut reader.take(length), &mut io::sink());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> Result<Request, ParseError> {
        read_request(&mut raw.as_bytes())
    }

    #[test]
    fn parses_a_request_head() {
        let r = parse("GET /?test=abc HTTP/1.1\r\nHost: localhost:8000\r\nX-A:  b \r\n\r\nbody")
            .expect("valid request");
        assert_eq!(r.method, "GET");
        assert_eq!(r.target, "/?test=abc");
        assert_eq!(r.path(), "/");
        assert_eq!(r.version, "HTTP/1.1");
        assert_eq!(r.header("host"), Some("localhost:8000"));
        assert_eq!(r.header("x-a"), Some("b"));
        assert_eq!(r.header("missing"), None);
    }

    #[test]
    fn accepts_bare_newlines_and_leading_empty_lines() {
        let r = parse("\r\nHEAD /version HTTP/1.0\nHost: x\n\n").expect("valid request");
        assert_eq!(r.method, "HEAD");
        assert_eq!(r.path(), "/version");
    }

    #[test]
    fn rejects_malformed_heads() {
        assert!(matches!(parse(""), Err(ParseError::Closed)));
        assert!(matches!(
            parse("GET /\r\n\r\n"),
            Err(ParseError::Malformed(_))
        ));
        assert!(matches!(
            parse("GET / HTTP/2\r\n\r\n"),
            Err(ParseError::Malformed(_))
        ));
        assert!(matches!(
            parse("G3T / HTTP/1.1\r\n\r\n"),
            Err(ParseError::Malformed(_))
        ));
        assert!(matches!(
            parse("GET nope HTTP/1.1\r\n\r\n"),
            Err(ParseError::Malformed(_))
        ));
        assert!(matches!(
            parse("GET / HTTP/1.1\r\nNoColon\r\n\r\n"),
            Err(ParseError::Malformed(_))
        ));
        assert!(matches!(
            parse("GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n"),
            Err(ParseError::Malformed(_))
        ));
        assert!(matches!(
            parse("GET / HTTP/1.1\r\nHost: x\r\n"),
            Err(ParseError::Malformed(_))
        ));
    }

    #[test]
    fn rejects_oversized_heads() {
        let long = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(70_000));
        assert!(matches!(parse(&long), Err(ParseError::TooLarge)));
        let many: String = (0..=MAX_HEADERS).map(|i| format!("H{i}: v\r\n")).collect();
        let raw = format!("GET / HTTP/1.1\r\n{many}\r\n");
        assert!(matches!(parse(&raw), Err(ParseError::TooLarge)));
    }

    #[test]
    fn writes_a_response() {
        let mut out = Vec::new();
        let resp = Response::text(403, "no\n").with_header("X-Y", "z");
        write_response(&mut out, &resp, false).expect("write to a Vec");
        let text = String::from_utf8(out).expect("ASCII");
        assert!(text.starts_with("HTTP/1.1 403 Forbidden\r\n"));
        assert!(text.contains("X-Y: z\r\n"));
        assert!(text.contains("Content-Length: 3\r\n"));
        assert!(text.ends_with("\r\n\r\nno\n"));

        let mut out = Vec::new();
        write_response(&mut out, &resp, true).expect("write to a Vec");
        assert!(String::from_utf8(out).expect("ASCII").ends_with("\r\n\r\n"));
    }
}
