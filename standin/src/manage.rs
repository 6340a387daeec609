//! `mrs COMMAND` and `djcli COMMAND`: the management commands post-deploy
//! steps run in the app container (`docker exec APP djcli dbcheck`). Both
//! names accept every command:
//! - `sendtestemail [TO]`: a real SMTP message to `EMAIL_HOST:EMAIL_PORT`;
//! - `dbcheck`: connect and `SELECT 1`, print `database ok`;
//! - `migrate`: create the stand-in's tables;
//! - `loaddata NAME...`: record each fixture name in `django_fixture`;
//! - `createsuperuser USER EMAIL PASSWORD`: upsert into `auth_user`.

use std::process::ExitCode;
use std::time::Duration;

use postgres::Client;

use crate::db::{self, DbParams};
use crate::smtp::{self, Outgoing};

/// How long the commands try to reach the database.
const DB_TRY: Duration = Duration::from_secs(5);
/// Timeout for each SMTP step.
const SMTP_TIMEOUT: Duration = Duration::from_secs(10);

/// The tables the stand-in's commands use.
const SCHEMA: &str = "\
CREATE TABLE IF NOT EXISTS auth_user (username text PRIMARY KEY, email text, password text);
CREATE TABLE IF NOT EXISTS django_fixture (name text PRIMARY KEY, loaded_at timestamptz NOT NULL DEFAULT now());";

/// Runs `args` (the command and its arguments) as program `prog`.
pub fn run(prog: &str, args: &[String]) -> ExitCode {
    let Some(command) = args.first() else {
        eprintln!(
            "{prog}: missing command (sendtestemail, dbcheck, migrate, loaddata, createsuperuser)"
        );
        return ExitCode::from(2);
    };
    let rest = args.get(1..).unwrap_or_default();
    let result = match (command.as_str(), rest) {
        ("sendtestemail", [] | [_]) => sendtestemail(rest.first().map(String::as_str)),
        ("dbcheck", []) => dbcheck(),
        ("migrate", _) => migrate(),
        ("loaddata", names) if !names.is_empty() => loaddata(names),
        ("createsuperuser", [user, email, password]) => createsuperuser(user, email, password),
        ("sendtestemail" | "dbcheck" | "loaddata" | "createsuperuser", _) => {
            eprintln!(
                "{prog} {command}: wrong arguments; usage: {}",
                usage(command)
            );
            return ExitCode::from(2);
        }
        _ => {
            eprintln!("{prog}: unknown command `{command}`");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(message) => {
            println!("{message}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{prog} {command}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The usage line of `command`.
fn usage(command: &str) -> &'static str {
    match command {
        "sendtestemail" => "sendtestemail [TO]",
        "dbcheck" => "dbcheck",
        "loaddata" => "loaddata NAME...",
        _ => "createsuperuser USER EMAIL PASSWORD",
    }
}

/// The environment variable `name`, or `default` when unset or empty.
fn env_or(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

/// Sends a test message, as Django's `sendtestemail` does.
fn sendtestemail(to: Option<&str>) -> Result<String, String> {
    let host = env_or("EMAIL_HOST", "localhost");
    let port_text = env_or("EMAIL_PORT", "25");
    let port: u16 = port_text
        .parse()
        .map_err(|_| format!("EMAIL_PORT `{port_text}` is not a port number"))?;
    let from = env_or("DEFAULT_FROM_EMAIL", "mrs@localhost");
    let to = to.map_or_else(|| env_or("TEAM_EMAIL", "test@localhost"), str::to_owned);
    let message = Outgoing {
        from: from.clone(),
        to: to.clone(),
        subject: format!("Test email from {}", smtp::local_hostname()),
        body: "If you're reading this, it was successful.\n".to_owned(),
    };
    let reply = smtp::send(&host, port, &message, SMTP_TIMEOUT)
        .map_err(|e| format!("sending through {host}:{port}: {e}"))?;
    Ok(format!(
        "sent test email from <{from}> to <{to}> via {host}:{port}: {reply}"
    ))
}

/// Connects within [`DB_TRY`].
fn connect() -> Result<(Client, DbParams), String> {
    let params = DbParams::from_env()?;
    let client = db::wait_until_ready(&params, DB_TRY, &|_| {})
        .map_err(|e| format!("database {params}: {e}"))?;
    Ok((client, params))
}

/// Checks the database answers.
fn dbcheck() -> Result<String, String> {
    let (_client, params) = connect()?;
    Ok(format!("database ok ({params})"))
}

/// Creates the stand-in's tables.
fn migrate() -> Result<String, String> {
    let (mut client, _) = connect()?;
    client.batch_execute(SCHEMA).map_err(|e| db::describe(&e))?;
    Ok("Operations to perform: stand-in tables. No migrations to apply.".to_owned())
}

/// Records each fixture name (the stand-in has no fixture files).
fn loaddata(names: &[String]) -> Result<String, String> {
    let (mut client, _) = connect()?;
    let mut transaction = client.transaction().map_err(|e| db::describe(&e))?;
    transaction
        .batch_execute(SCHEMA)
        .map_err(|e| db::describe(&e))?;
    for name in names {
        transaction
            .execute(
                "INSERT INTO django_fixture (name) VALUES ($1) \
                 ON CONFLICT (name) DO UPDATE SET loaded_at = now()",
                &[name],
            )
            .map_err(|e| db::describe(&e))?;
    }
    transaction.commit().map_err(|e| db::describe(&e))?;
    Ok(format!(
        "Installed {} object(s) from {} fixture(s)",
        names.len(),
        names.len()
    ))
}

/// Creates or updates a superuser row.
fn createsuperuser(user: &str, email: &str, password: &str) -> Result<String, String> {
    let (mut client, _) = connect()?;
    client.batch_execute(SCHEMA).map_err(|e| db::describe(&e))?;
    let row = client
        .query_one(
            "INSERT INTO auth_user (username, email, password) VALUES ($1, $2, $3) \
             ON CONFLICT (username) DO UPDATE SET email = EXCLUDED.email, password = EXCLUDED.password \
             RETURNING (xmax = 0) AS inserted",
            &[&user, &email, &password],
        )
        .map_err(|e| db::describe(&e))?;
    let inserted: bool = row.try_get(0).map_err(|e| db::describe(&e))?;
    Ok(if inserted {
        format!("Superuser {user} created successfully.")
    } else {
        format!("Superuser {user} updated successfully.")
    })
}
