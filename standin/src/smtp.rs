//! SMTP, both sides, as little as the stand-ins need: the server state
//! machine of the `maildev` sink ([`Session`]) and the client that
//! `mrs sendtestemail` uses ([`send`]).

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::resolve;

/// Largest message the sink keeps, in bytes.
pub const MAX_MESSAGE: usize = 10 * 1024 * 1024;

/// A message received by the sink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The envelope sender (`MAIL FROM`), possibly empty.
    pub from: String,
    /// The envelope recipients (`RCPT TO`).
    pub to: Vec<String>,
    /// The message (headers and body), dot-unstuffed, CRLF line ends.
    pub data: String,
}

/// What the server does after a line.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Step {
    /// The reply to send (one or more CRLF-terminated lines), if any.
    pub reply: Option<String>,
    /// A message completed by this line.
    pub message: Option<Received>,
    /// Whether to close the connection after the reply.
    pub close: bool,
}

impl Step {
    /// A step that only replies.
    fn reply(text: impl Into<String>) -> Self {
        Step {
            reply: Some(text.into()),
            ..Step::default()
        }
    }
}

/// Where a session is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Between transactions (after greeting, HELO/EHLO or RSET).
    Idle,
    /// After `MAIL FROM`.
    Mail,
    /// After at least one `RCPT TO`.
    Rcpt,
    /// Reading the message after `DATA`.
    Data,
}

/// One SMTP server session: feed it the client's lines, send its replies.
#[derive(Debug)]
pub struct Session {
    hostname: String,
    state: State,
    from: String,
    to: Vec<String>,
    data: String,
    too_big: bool,
}

impl Session {
    /// A new session for a server named `hostname`.
    pub fn new(hostname: &str) -> Self {
        Session {
            hostname: hostname.to_owned(),
            state: State::Idle,
            from: String::new(),
            to: Vec::new(),
            data: String::new(),
            too_big: false,
        }
    }

    /// The greeting to send on connect.
    pub fn greeting(&self) -> String {
        format!("220 {} ESMTP mrs-standin maildev\r\n", self.hostname)
    }

    /// Forgets the current transaction.
    fn reset(&mut self) {
        self.state = State::Idle;
        self.from.clear();
        self.to.clear();
        self.data.clear();
        self.too_big = false;
    }

    /// Handles one line from the client (without its line end).
    pub fn feed(&mut self, line: &str) -> Step {
        if self.state == State::Data {
            return self.feed_data(line);
        }
        let (verb, arg) = match line.split_once(' ') {
            Some((v, a)) => (v, a.trim()),
            None => (line.trim(), ""),
        };
        match verb.to_ascii_uppercase().as_str() {
            "HELO" | "EHLO" if arg.is_empty() => {
                Step::reply("501 5.5.4 Syntax: HELO/EHLO hostname\r\n")
            }
            "HELO" => {
                self.reset();
                Step::reply(format!("250 {}\r\n", self.hostname))
            }
            "EHLO" => {
                self.reset();
                Step::reply(format!(
                    "250-{} greets {arg}\r\n250-8BITMIME\r\n250-SIZE {MAX_MESSAGE}\r\n250 HELP\r\n",
                    self.hostname
                ))
            }
            "MAIL" => {
                if self.state != State::Idle {
                    return Step::reply("503 5.5.1 Error: nested MAIL command\r\n");
                }
                match path_argument(arg, "FROM:") {
                    Some(from) => {
                        self.from = from;
                        self.state = State::Mail;
                        Step::reply("250 2.1.0 Ok\r\n")
                    }
                    None => Step::reply("501 5.5.4 Syntax: MAIL FROM:<address>\r\n"),
                }
            }
            "RCPT" => {
                if self.state == State::Idle {
                    return Step::reply("503 5.5.1 Error: need MAIL command\r\n");
                }
                match path_argument(arg, "TO:").filter(|to| !to.is_empty()) {
                    Some(to) => {
                        self.to.push(to);
                        self.state = State::Rcpt;
                        Step::reply("250 2.1.5 Ok\r\n")
                    }
                    None => Step::reply("501 5.5.4 Syntax: RCPT TO:<address>\r\n"),
                }
            }
            "DATA" => {
                if self.state != State::Rcpt {
                    return Step::reply("503 5.5.1 Error: need RCPT command\r\n");
                }
                self.state = State::Data;
                Step::reply("354 End data with <CR><LF>.<CR><LF>\r\n")
            }
            "RSET" => {
                self.reset();
                Step::reply("250 2.0.0 Ok\r\n")
            }
            "NOOP" => Step::reply("250 2.0.0 Ok\r\n"),
            "VRFY" => Step::reply("252 2.0.0 Cannot VRFY user, but will accept message\r\n"),
            "HELP" => Step::reply("214 2.0.0 HELO EHLO MAIL RCPT DATA RSET NOOP QUIT\r\n"),
            "QUIT" => Step {
                reply: Some("221 2.0.0 Bye\r\n".to_owned()),
                close: true,
                ..Step::default()
            },
            _ => Step::reply("500 5.5.2 Error: command not recognized\r\n"),
        }
    }

    /// Handles a line of the message after `DATA`.
    fn feed_data(&mut self, line: &str) -> Step {
        if line == "." {
            let step = if self.too_big {
                Step::reply("552 5.3.4 Error: message too big\r\n")
            } else {
                Step {
                    reply: Some("250 2.0.0 Ok: message accepted\r\n".to_owned()),
                    message: Some(Received {
                        from: std::mem::take(&mut self.from),
                        to: std::mem::take(&mut self.to),
                        data: std::mem::take(&mut self.data),
                    }),
                    close: false,
                }
            };
            self.reset();
            return step;
        }
        let line = line.strip_prefix('.').unwrap_or(line);
        if self.data.len() + line.len() + 2 > MAX_MESSAGE {
            self.too_big = true;
        } else {
            self.data.push_str(line);
            self.data.push_str("\r\n");
        }
        Step::default()
    }
}

/// Parses `FROM:<a@b> SIZE=12` (after the verb) into `a@b`. `prefix` is
/// `FROM:` or `TO:` (case-insensitive); brackets are optional.
fn path_argument(arg: &str, prefix: &str) -> Option<String> {
    let head = arg.get(..prefix.len())?;
    if !head.eq_ignore_ascii_case(prefix) {
        return None;
    }
    let rest = arg.get(prefix.len()..)?.trim_start();
    if let Some(inner) = rest.strip_prefix('<') {
        let end = inner.find('>')?;
        return Some(inner[..end].to_owned());
    }
    let path = rest.split_whitespace().next()?;
    Some(path.to_owned())
}

/// A message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// Envelope and `From:` sender.
    pub from: String,
    /// Envelope and `To:` recipient.
    pub to: String,
    /// `Subject:`.
    pub subject: String,
    /// The text body.
    pub body: String,
}

/// Formats `message` as RFC 5322 text with CRLF line ends, dated `now`
/// (seconds since the epoch), ready for dot-stuffing.
pub fn format_message(message: &Outgoing, now: u64, hostname: &str) -> String {
    let body = message.body.replace("\r\n", "\n").replace('\n', "\r\n");
    format!(
        "From: {}\r\nTo: {}\r\nSubject: {}\r\nDate: {}\r\nMessage-ID: <{}.{}@{}>\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Transfer-Encoding: 8bit\r\n\r\n{}\r\n",
        message.from,
        message.to,
        message.subject,
        rfc5322_date(now),
        now,
        std::process::id(),
        hostname,
        body.trim_end_matches("\r\n"),
    )
}

/// Doubles a leading dot on each line (RFC 5321 4.5.2).
pub fn dot_stuff(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for line in text.split_inclusive('\n') {
        if line.starts_with('.') {
            out.push('.');
        }
        out.push_str(line);
    }
    out
}

/// An RFC 5322 date in UTC for `secs` since the epoch.
pub fn rfc5322_date(secs: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    let weekday = DAYS
        .get(usize::try_from(days % 7).unwrap_or(0))
        .unwrap_or(&"Thu");
    let month_name = MONTHS
        .get(usize::try_from(month.saturating_sub(1)).unwrap_or(0))
        .unwrap_or(&"Jan");
    format!(
        "{weekday}, {day:02} {month_name} {year} {:02}:{:02}:{:02} +0000",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The proleptic Gregorian (year, month 1-12, day 1-31) of a day count
/// since 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// Reads one (possibly multi-line) reply: its code and text.
pub fn read_reply<R: BufRead>(reader: &mut R) -> Result<(u16, String), String> {
    let mut text = String::new();
    loop {
        let mut line = String::new();
        let n = reader
            .read_line(&mut line)
            .map_err(|e| format!("reading the server's reply: {e}"))?;
        if n == 0 {
            return Err("the server closed the connection".to_owned());
        }
        let line = line.trim_end_matches(['\r', '\n']);
        let code = line
            .get(..3)
            .and_then(|c| c.parse::<u16>().ok())
            .ok_or_else(|| format!("bad SMTP reply line `{line}`"))?;
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(line);
        match line.as_bytes().get(3) {
            Some(b'-') => continue,
            None | Some(b' ') => return Ok((code, text)),
            Some(_) => return Err(format!("bad SMTP reply line `{line}`")),
        }
    }
}

/// Sends `message` to the SMTP server at `host:port`; returns the server's
/// reply to the message data (e.g. `250 Ok: queued as ...`).
pub fn send(
    host: &str,
    port: u16,
    message: &Outgoing,
    timeout: Duration,
) -> Result<String, String> {
    let addrs = resolve::resolve(host, port).map_err(|e| e.to_string())?;
    let mut last = format!("{host}:{port}: no address");
    let mut stream = None;
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => last = format!("connecting to {addr}: {e}"),
        }
    }
    let stream = stream.ok_or(last)?;
    stream
        .set_read_timeout(Some(timeout))
        .and_then(|()| stream.set_write_timeout(Some(timeout)))
        .map_err(|e| e.to_string())?;
    let mut reader = BufReader::new(&stream);
    let mut writer = &stream;
    let hostname = local_hostname();

    let expect =
        |reader: &mut BufReader<&TcpStream>, what: &str, ok: u16| -> Result<String, String> {
            let (code, text) = read_reply(reader)?;
            if code == ok {
                Ok(text)
            } else {
                Err(format!("after {what}, the server said: {text}"))
            }
        };
    let command = |writer: &mut &TcpStream, line: &str| -> Result<(), String> {
        writer
            .write_all(format!("{line}\r\n").as_bytes())
            .map_err(|e| format!("sending `{line}`: {e}"))
    };

    expect(&mut reader, "connecting", 220)?;
    command(&mut writer, &format!("EHLO {hostname}"))?;
    if expect(&mut reader, "EHLO", 250).is_err() {
        command(&mut writer, &format!("HELO {hostname}"))?;
        expect(&mut reader, "HELO", 250)?;
    }
    command(&mut writer, &format!("MAIL FROM:<{}>", message.from))?;
    expect(&mut reader, "MAIL FROM", 250)?;
    command(&mut writer, &format!("RCPT TO:<{}>", message.to))?;
    expect(&mut reader, "RCPT TO", 250)?;
    command(&mut writer, "DATA")?;
    expect(&mut reader, "DATA", 354)?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let text = dot_stuff(&format_message(message, now, &hostname));
    writer
        .write_all(text.as_bytes())
        .and_then(|()| writer.write_all(b".\r\n"))
        .map_err(|e| format!("sending the message: {e}"))?;
    let accepted = expect(&mut reader, "the message", 250)?;
    // The message is accepted: a failing QUIT does not matter.
    let _ = command(&mut writer, "QUIT");
    let _ = read_reply(&mut reader);
    Ok(accepted)
}

/// This machine's (container's) host name, or `localhost`.
pub fn local_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(step: &Step) -> &str {
        step.reply.as_deref().unwrap_or("")
    }

    #[test]
    fn a_whole_session() {
        let mut s = Session::new("maildev");
        assert!(s.greeting().starts_with("220 maildev "));
        let ehlo = s.feed("EHLO client.example");
        assert!(reply(&ehlo).starts_with("250-maildev"));
        assert!(reply(&ehlo).ends_with("250 HELP\r\n"));
        assert!(reply(&s.feed("MAIL FROM:<mrs@localhost> SIZE=100")).starts_with("250"));
        assert!(reply(&s.feed("rcpt to:<a@x>")).starts_with("250"));
        assert!(reply(&s.feed("RCPT TO: b@y")).starts_with("250"));
        assert!(reply(&s.feed("DATA")).starts_with("354"));
        assert_eq!(s.feed("Subject: hi"), Step::default());
        assert_eq!(s.feed(""), Step::default());
        assert_eq!(s.feed("..leading dot"), Step::default());
        let done = s.feed(".");
        assert!(reply(&done).starts_with("250"));
        assert_eq!(
            done.message,
            Some(Received {
                from: "mrs@localhost".to_owned(),
                to: vec!["a@x".to_owned(), "b@y".to_owned()],
                data: "Subject: hi\r\n\r\n.leading dot\r\n".to_owned(),
            })
        );
        // A second transaction on the same connection.
        assert!(reply(&s.feed("MAIL FROM:<>")).starts_with("250"));
        assert!(reply(&s.feed("RSET")).starts_with("250"));
        assert!(reply(&s.feed("RCPT TO:<a@x>")).starts_with("503"));
        assert!(reply(&s.feed("NOOP")).starts_with("250"));
        let quit = s.feed("QUIT");
        assert!(reply(&quit).starts_with("221"));
        assert!(quit.close);
    }

    #[test]
    fn enforces_the_command_order() {
        let mut s = Session::new("h");
        assert!(reply(&s.feed("DATA")).starts_with("503"));
        assert!(reply(&s.feed("RCPT TO:<a@x>")).starts_with("503"));
        assert!(reply(&s.feed("MAIL FROM:<a@x>")).starts_with("250"));
        assert!(reply(&s.feed("MAIL FROM:<a@x>")).starts_with("503"));
        assert!(reply(&s.feed("DATA")).starts_with("503"));
        assert!(reply(&s.feed("RCPT TO:<>")).starts_with("501"));
        assert!(reply(&s.feed("HELO")).starts_with("501"));
        assert!(reply(&s.feed("HELO me")).starts_with("250 h"));
        assert!(reply(&s.feed("RCPT TO:<a@x>")).starts_with("503")); // HELO reset
        assert!(reply(&s.feed("MAIL TO:<a@x>")).starts_with("501"));
        assert!(reply(&s.feed("STARTTLS")).starts_with("500"));
        assert!(reply(&s.feed("")).starts_with("500"));
    }

    #[test]
    fn refuses_oversized_messages() {
        let mut s = Session::new("h");
        s.feed("MAIL FROM:<a@x>");
        s.feed("RCPT TO:<b@y>");
        s.feed("DATA");
        let chunk = "x".repeat(1000);
        for _ in 0..=MAX_MESSAGE / 1000 {
            s.feed(&chunk);
        }
        let end = s.feed(".");
        assert!(reply(&end).starts_with("552"));
        assert!(end.message.is_none());
        assert!(reply(&s.feed("MAIL FROM:<a@x>")).starts_with("250"));
    }

    #[test]
    fn parses_path_arguments() {
        assert_eq!(path_argument("FROM:<a@b>", "FROM:"), Some("a@b".to_owned()));
        assert_eq!(
            path_argument("from: <a@b> BODY=8BITMIME", "FROM:"),
            Some("a@b".to_owned())
        );
        assert_eq!(path_argument("FROM:a@b", "FROM:"), Some("a@b".to_owned()));
        assert_eq!(path_argument("FROM:<>", "FROM:"), Some(String::new()));
        assert_eq!(path_argument("FROM:<a@b", "FROM:"), None);
        assert_eq!(path_argument("TO:<a@b>", "FROM:"), None);
        assert_eq!(path_argument("", "TO:"), None);
        assert_eq!(path_argument("é", "TO:"), None);
    }

    #[test]
    fn reads_replies() {
        let mut one = "250 ok\r\n".as_bytes();
        assert_eq!(read_reply(&mut one), Ok((250, "250 ok".to_owned())));
        let mut multi = "250-a\r\n250-b\r\n250 c\r\n".as_bytes();
        assert_eq!(
            read_reply(&mut multi),
            Ok((250, "250-a\n250-b\n250 c".to_owned()))
        );
        let mut bare = "354\r\n".as_bytes();
        assert_eq!(read_reply(&mut bare).map(|r| r.0), Ok(354));
        assert!(read_reply(&mut "".as_bytes()).is_err());
        assert!(read_reply(&mut "hello\r\n".as_bytes()).is_err());
        assert!(read_reply(&mut "250-a\r\n".as_bytes()).is_err());
    }

    #[test]
    fn formats_messages() {
        assert_eq!(dot_stuff(".a\r\nb\r\n..c\r\n"), "..a\r\nb\r\n...c\r\n");
        assert_eq!(rfc5322_date(0), "Thu, 01 Jan 1970 00:00:00 +0000");
        assert_eq!(rfc5322_date(951_782_400), "Tue, 29 Feb 2000 00:00:00 +0000");
        assert_eq!(
            rfc5322_date(1_767_225_599),
            "Wed, 31 Dec 2025 23:59:59 +0000"
        );
        let m = Outgoing {
            from: "mrs@localhost".to_owned(),
            to: "t@x".to_owned(),
            subject: "S".to_owned(),
            body: "line1\nline2\n".to_owned(),
        };
        let text = format_message(&m, 0, "h");
        assert!(text.starts_with("From: mrs@localhost\r\nTo: t@x\r\nSubject: S\r\n"));
        assert!(text.ends_with("\r\n\r\nline1\r\nline2\r\n"));
        assert!(!text.replace("\r\n", "").contains('\n'));
    }
}
