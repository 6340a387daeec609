//! `maildev`: the `djfarrelly/maildev` stand-in. An SMTP sink on
//! `SMTP_PORT` (25) that keeps every message in memory, and a web API on
//! `WEB_PORT` (80): `GET /` (200), `GET /email` (the messages as JSON:
//! `[{"id", "from", "to", "subject", "data"}]`), `DELETE /email/all`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::http::{self, Request, Response};
use crate::signals;
use crate::smtp::{self, Received, Session};

/// Most messages kept; the oldest are dropped past it.
const MAX_KEPT: usize = 1000;
/// How long an SMTP client may stay silent.
const SMTP_TIMEOUT: Duration = Duration::from_secs(300);
/// Longest SMTP line read (RFC 5321 allows 1000; be lenient).
const MAX_LINE: u64 = 1024 * 1024;

/// A kept message and its number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// 1, 2, ... in order of arrival.
    pub id: u64,
    /// What was received.
    pub message: Received,
}

/// The in-memory mailbox shared by the SMTP and web servers.
#[derive(Debug, Default)]
pub struct Mailbox {
    next_id: u64,
    messages: Vec<Stored>,
}

impl Mailbox {
    /// Keeps `message`, returning its id.
    pub fn add(&mut self, message: Received) -> u64 {
        self.next_id += 1;
        if self.messages.len() == MAX_KEPT {
            self.messages.remove(0);
        }
        self.messages.push(Stored {
            id: self.next_id,
            message,
        });
        self.next_id
    }

    /// The messages as a JSON array.
    pub fn to_json(&self) -> String {
        let items: Vec<String> = self
            .messages
            .iter()
            .map(|s| {
                let to: Vec<String> = s.message.to.iter().map(|t| json_string(t)).collect();
                format!(
                    "{{\"id\":\"{}\",\"from\":{},\"to\":[{}],\"subject\":{},\"data\":{}}}",
                    s.id,
                    json_string(&s.message.from),
                    to.join(","),
                    json_string(&subject(&s.message.data)),
                    json_string(&s.message.data)
                )
            })
            .collect();
        format!("[{}]", items.join(","))
    }
}

/// The (unfolded, undecoded) `Subject:` header of a message, or empty.
pub fn subject(data: &str) -> String {
    let mut lines = data.split("\r\n").take_while(|l| !l.is_empty()).peekable();
    while let Some(line) = lines.next() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if name.eq_ignore_ascii_case("subject") {
            let mut value = value.trim().to_owned();
            while let Some(next) = lines.next_if(|l| l.starts_with([' ', '\t'])) {
                value.push(' ');
                value.push_str(next.trim());
            }
            return value;
        }
    }
    String::new()
}

/// `text` as a JSON string literal.
pub fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Answers one web request.
pub fn handle_web(mailbox: &Mutex<Mailbox>, request: &Request) -> Response {
    let mut mailbox = mailbox.lock().unwrap_or_else(PoisonError::into_inner);
    match (request.method.as_str(), request.path()) {
        ("GET" | "HEAD", "/") => Response {
            status: 200,
            headers: vec![(
                "Content-Type".to_owned(),
                "text/html; charset=utf-8".to_owned(),
            )],
            body: format!(
                "<!doctype html><title>MailDev stand-in</title><p>MailDev stand-in: {} message(s). \
                 See <a href=\"/email\">/email</a>.</p>\n",
                mailbox.messages.len()
            )
            .into_bytes(),
        },
        ("GET" | "HEAD", "/email") => Response::json(200, mailbox.to_json()),
        ("DELETE", "/email/all") => {
            mailbox.messages.clear();
            Response::json(200, "true".to_owned())
        }
        (_, "/" | "/email" | "/email/all") => Response::text(405, "method not allowed\n"),
        _ => Response::text(404, "not found\n"),
    }
}

/// Runs one SMTP connection to its end.
fn smtp_connection(
    stream: &TcpStream,
    mailbox: &Mutex<Mailbox>,
    hostname: &str,
) -> Result<(), String> {
    stream
        .set_read_timeout(Some(SMTP_TIMEOUT))
        .map_err(|e| e.to_string())?;
    let mut session = Session::new(hostname);
    let mut writer = stream;
    writer
        .write_all(session.greeting().as_bytes())
        .map_err(|e| e.to_string())?;
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = Vec::new();
        let n = (&mut reader)
            .take(MAX_LINE)
            .read_until(b'\n', &mut line)
            .map_err(|e| e.to_string())?;
        if n == 0 {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&line);
        let step = session.feed(text.trim_end_matches(['\r', '\n']));
        if let Some(message) = step.message {
            let (from, to, size) = (
                message.from.clone(),
                message.to.join(", "),
                message.data.len(),
            );
            let id = mailbox
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .add(message);
            println!("maildev: received message #{id} from <{from}> to <{to}> ({size} bytes)");
        }
        if let Some(reply) = step.reply {
            writer
                .write_all(reply.as_bytes())
                .map_err(|e| e.to_string())?;
        }
        if step.close {
            return Ok(());
        }
    }
}

/// Accepts SMTP connections forever, one thread each.
fn serve_smtp(listener: TcpListener, mailbox: Arc<Mutex<Mailbox>>) {
    let hostname = smtp::local_hostname();
    for stream in listener.incoming() {
        let stream = match stream {
            Ok(s) => s,
            Err(e) => {
                eprintln!("maildev: SMTP accept failed: {e}");
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        let mailbox = Arc::clone(&mailbox);
        let hostname = hostname.clone();
        let spawned = std::thread::Builder::new()
            .name("smtp".to_owned())
            .spawn(move || {
                let peer = stream
                    .peer_addr()
                    .map_or_else(|_| "?".to_owned(), |a| a.to_string());
                if let Err(e) = smtp_connection(&stream, &mailbox, &hostname) {
                    eprintln!("maildev: SMTP {peer}: {e}");
                }
            });
        if let Err(e) = spawned {
            eprintln!("maildev: cannot start an SMTP thread: {e}");
        }
    }
}

/// Reads a port from the environment variable `name`, or `default`.
fn port_from_env(name: &str, default: u16) -> Result<u16, String> {
    match std::env::var(name).ok().filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(v) => v
            .parse()
            .map_err(|_| format!("{name} `{v}` is not a port number")),
    }
}

/// Runs the sink; the exit code for `main`.
pub fn run() -> ExitCode {
    let ports =
        port_from_env("SMTP_PORT", 25).and_then(|s| Ok((s, port_from_env("WEB_PORT", 80)?)));
    let (smtp_port, web_port) = match ports {
        Ok(p) => p,
        Err(e) => {
            eprintln!("maildev: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = signals::exit_on_termination("maildev") {
        eprintln!("maildev: cannot install the SIGTERM handler: {e}");
        return ExitCode::FAILURE;
    }
    let bind = |port: u16| {
        TcpListener::bind((Ipv4Addr::UNSPECIFIED, port))
            .map_err(|e| format!("cannot listen on 0.0.0.0:{port}: {e}"))
    };
    let (smtp_listener, web_listener) = match bind(smtp_port).and_then(|s| Ok((s, bind(web_port)?)))
    {
        Ok(l) => l,
        Err(e) => {
            eprintln!("maildev: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mailbox = Arc::new(Mutex::new(Mailbox::default()));
    let smtp_mailbox = Arc::clone(&mailbox);
    let smtp_thread = std::thread::Builder::new()
        .name("smtp-accept".to_owned())
        .spawn(move || serve_smtp(smtp_listener, smtp_mailbox));
    if let Err(e) = smtp_thread {
        eprintln!("maildev: cannot start the SMTP server: {e}");
        return ExitCode::FAILURE;
    }
    println!("maildev: SMTP on 0.0.0.0:{smtp_port}, web on http://0.0.0.0:{web_port}");
    http::serve(web_listener, "maildev web", move |request| {
        handle_web(&mailbox, request)
    });
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(path: &str) -> Request {
        Request {
            method: "GET".to_owned(),
            target: path.to_owned(),
            version: "HTTP/1.1".to_owned(),
            headers: Vec::new(),
        }
    }

    #[test]
    fn escapes_json() {
        assert_eq!(
            json_string("a\"b\\c\r\n\t\u{1}é"),
            "\"a\\\"b\\\\c\\r\\n\\t\\u0001é\""
        );
    }

    #[test]
    fn finds_the_subject() {
        assert_eq!(
            subject("From: a\r\nSubject: Test\r\n  folded\r\n\r\nSubject: body"),
            "Test folded"
        );
        assert_eq!(subject("From: a\r\n\r\nSubject: body\r\n"), "");
    }

    #[test]
    fn lists_and_clears_messages() {
        let mailbox = Mutex::new(Mailbox::default());
        let r = handle_web(&mailbox, &get("/email"));
        assert_eq!((r.status, r.body.as_slice()), (200, &b"[]"[..]));
        let id = mailbox.lock().expect("not poisoned").add(Received {
            from: "mrs@localhost".to_owned(),
            to: vec!["a@x".to_owned()],
            data: "Subject: Hi\r\n\r\nbody\r\n".to_owned(),
        });
        assert_eq!(id, 1);
        let r = handle_web(&mailbox, &get("/email?x=1"));
        assert_eq!(
            String::from_utf8(r.body).expect("UTF-8"),
            "[{\"id\":\"1\",\"from\":\"mrs@localhost\",\"to\":[\"a@x\"],\"subject\":\"Hi\",\
             \"data\":\"Subject: Hi\\r\\n\\r\\nbody\\r\\n\"}]"
        );
        assert_eq!(handle_web(&mailbox, &get("/")).status, 200);
        assert_eq!(handle_web(&mailbox, &get("/nope")).status, 404);
        let mut delete = get("/email/all");
        delete.method = "DELETE".to_owned();
        assert_eq!(handle_web(&mailbox, &delete).status, 200);
        assert_eq!(handle_web(&mailbox, &get("/email")).body, b"[]");
    }

    #[test]
    fn keeps_a_bounded_number_of_messages() {
        let mut mailbox = Mailbox::default();
        for _ in 0..MAX_KEPT + 5 {
            mailbox.add(Received {
                from: String::new(),
                to: Vec::new(),
                data: String::new(),
            });
        }
        assert_eq!(mailbox.messages.len(), MAX_KEPT);
        assert_eq!(mailbox.messages.first().map(|s| s.id), Some(6));
    }
}
