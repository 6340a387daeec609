//! The environment aspect: variables as the container gets them, secrets
//! kept as [`Secret`] until the create request, and the size limits the
//! kernel puts on a process's arguments and environment.

use mrs_env::secret::{Redactor, Secret};

use super::DesiredError;

/// One environment variable.
#[derive(Clone, Debug)]
pub struct EnvVar {
    /// Name.
    pub key: String,
    /// Value; `None` passes the name alone (unset in the container).
    pub value: Option<EnvValue>,
}

/// A value, secret or not.
#[derive(Clone, Debug)]
pub enum EnvValue {
    /// Shown freely.
    Plain(String),
    /// Holds a secret: never shown, never hashed.
    Secret(Secret),
}

impl EnvVar {
    /// `KEY=value` (or `KEY`), secrets exposed: for the create request only.
    pub fn entry(&self) -> String {
        match &self.value {
            None => self.key.clone(),
            Some(EnvValue::Plain(v)) => format!("{}={v}", self.key),
            Some(EnvValue::Secret(s)) => format!("{}={}", self.key, s.expose()),
        }
    }

    /// Whether the value holds a secret.
    pub fn is_secret(&self) -> bool {
        matches!(self.value, Some(EnvValue::Secret(_)))
    }
}

/// The service's environment, values holding a secret wrapped as such.
pub fn env(
    environment: &indexmap::IndexMap<String, Option<String>>,
    redactor: &Redactor,
) -> Vec<EnvVar> {
    environment
        .iter()
        .map(|(k, v)| EnvVar {
            key: k.clone(),
            value: v.as_ref().map(|v| {
                if redactor.leaks(v) {
                    EnvValue::Secret(Secret::new(v.clone()))
                } else {
                    EnvValue::Plain(v.clone())
                }
            }),
        })
        .collect()
}

/// Replaces every string that holds a secret with its masked form, so a
/// hash of the result says nothing about the secret.
pub fn mask_secrets(value: &mut serde_json::Value, redactor: &Redactor) {
    match value {
        serde_json::Value::String(s) if redactor.leaks(s) => *s = redactor.redact(s),
        serde_json::Value::Array(items) => {
            for v in items {
                mask_secrets(v, redactor);
            }
        }
        serde_json::Value::Object(map) => {
            for v in map.values_mut() {
                mask_secrets(v, redactor);
            }
        }
        _ => {}
    }
}

/// Linux's limit on one argument or environment string (`MAX_ARG_STRLEN`), NUL included.
pub const MAX_ARG_STRLEN: usize = 32 * 4096;
/// What `execve` accepts in all (arguments, environment and their pointers) with the
/// default 8 MiB stack: a quarter of it.
pub const MAX_ARGS_TOTAL: usize = 2 * 1024 * 1024;

/// Refuses what the container's process could not be started with, naming
/// the container and the variable or argument, never the value.
pub fn check_sizes(container: &str, env: &[EnvVar], args: &[String]) -> Result<(), DesiredError> {
    let mut total = 0usize;
    for v in env {
        let len = v.entry().len() + 1;
        if len > MAX_ARG_STRLEN {
            return Err(DesiredError(format!(
                "{container}: the value of `{}` is {} KiB; the kernel refuses an environment string over {} KiB, so the container could not start",
                v.key,
                len / 1024,
                MAX_ARG_STRLEN / 1024
            )));
        }
        total += len + std::mem::size_of::<usize>();
    }
    for (i, a) in args.iter().enumerate() {
        let len = a.len() + 1;
        if len > MAX_ARG_STRLEN {
            return Err(DesiredError(format!(
                "{container}: argument {} of the command is {} KiB; the kernel refuses an argument over {} KiB",
                i + 1,
                len / 1024,
                MAX_ARG_STRLEN / 1024
            )));
        }
        total += len + std::mem::size_of::<usize>();
    }
    if total > MAX_ARGS_TOTAL {
        return Err(DesiredError(format!(
            "{container}: its command and environment take {} KiB; the kernel refuses more than {} KiB",
            total / 1024,
            MAX_ARGS_TOTAL / 1024
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked_in_what_is_hashed() {
        let r = Redactor::new([Secret::new("k9".into())]);
        let mut v = serde_json::json!({"environment": {"SECRET_KEY": "k9", "B": "x-k9-y", "C": "plain"}, "command": ["a", "k9"]});
        mask_secrets(&mut v, &r);
        assert!(!v.to_string().contains("k9"), "{v}");
        assert_eq!(v["environment"]["C"], "plain");
    }

    #[test]
    fn oversized_values_are_named_not_shown() {
        let big = EnvVar {
            key: "BIG".into(),
            value: Some(EnvValue::Plain("x".repeat(MAX_ARG_STRLEN))),
        };
        let e = check_sizes("c", &[big], &[]).expect_err("too big");
        assert!(e.0.contains("`BIG`") && !e.0.contains("xxxx"), "{e}");
        let many: Vec<EnvVar> = (0..40)
            .map(|i| EnvVar {
                key: format!("V{i}"),
                value: Some(EnvValue::Plain("x".repeat(100 * 1024))),
            })
            .collect();
        assert!(check_sizes("c", &many, &[]).is_err());
        assert!(check_sizes("c", &many[..3], &["a".into()]).is_ok());
    }
}
