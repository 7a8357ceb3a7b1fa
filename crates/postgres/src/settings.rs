//! What `--state postgres://…` means: the connection (from the URL, then
//! the standard `PG*` variables, then `~/.pgpass`, as libpq does), the TLS
//! mode, the schema and the workspace, and a location to print that never
//! holds the password.

use std::path::PathBuf;
use std::str::FromStr as _;
use std::time::Duration;

use costform_planner::Error;
use costform_planner::workspace::{DEFAULT_WORKSPACE, check_name};
use tokio_postgres::config::{Host, SslMode};

use crate::pgpass;

/// The schema when the URL names none.
pub const DEFAULT_SCHEMA: &str = "costform";

/// How the connection is protected (libpq's `sslmode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// No TLS.
    Disable,
    /// TLS when the server offers it, unauthenticated.
    Prefer,
    /// TLS, encrypted but with the server unauthenticated (libpq's
    /// `require` without a root certificate).
    Require,
    /// TLS with the server's certificate chained to a trusted root.
    VerifyCa,
    /// As `VerifyCa`, and the certificate names the host.
    VerifyFull,
}

/// A parsed `--state` URL with everything resolved.
#[derive(Clone)]
pub struct Settings {
    /// The driver's configuration, password included: never printed.
    pub config: tokio_postgres::Config,
    /// How to protect the connection.
    pub tls: TlsMode,
    /// Trusted roots for the `verify-*` modes (`sslrootcert`,
    /// `PGSSLROOTCERT`, `~/.postgresql/root.crt`).
    pub root_cert: Option<PathBuf>,
    /// The schema holding costform's tables.
    pub schema: String,
    /// The workspace: one independent state.
    pub workspace: String,
    /// The URL without its password, with the schema and workspace: what
    /// messages and saved plans name.
    pub location: String,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The driver's `Config` prints the password; the location does not.
        formatter
            .debug_struct("Settings")
            .field("location", &self.location)
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}

impl Settings {
    /// The key of the workspace's advisory lock (hashed by the server).
    pub fn lock_key(&self) -> String {
        format!("costform:{}:{}", self.schema, self.workspace)
    }

    /// Parses `url`; `workspace` applies unless the URL names one
    /// (`?workspace=`), and both naming different ones is an error.
    /// `env` reads the process environment (`PGHOST`, `PGPASSWORD`, …).
    pub fn parse(
        url: &str,
        workspace: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, Error> {
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let mut kept = Vec::new();
        let mut schema = None;
        let mut url_workspace = None;
        let mut sslmode = env("PGSSLMODE");
        let mut root_cert = env("PGSSLROOTCERT");
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = percent_decode(value);
            match key {
                "schema" => schema = Some(value),
                "workspace" => url_workspace = Some(value),
                "sslmode" => sslmode = Some(value),
                "sslrootcert" => root_cert = Some(value),
                _ => kept.push(pair),
            }
        }
        let redacted = redact(base);
        let refuse = |reason: String| Error::BackendRefused {
            location: redacted.clone(),
            reason,
        };
        let workspace = match url_workspace {
            Some(named) if workspace != named && workspace != DEFAULT_WORKSPACE => {
                return Err(refuse(format!(
                    "the URL names workspace `{named}` and `--workspace` names `{workspace}`: keep one"
                )));
            }
            Some(named) => named,
            None => workspace.to_owned(),
        };
        let schema = schema.unwrap_or_else(|| DEFAULT_SCHEMA.to_owned());
        check_name("schema", &schema).map_err(&refuse)?;
        check_name("workspace", &workspace).map_err(&refuse)?;
        let tls = match sslmode.as_deref().unwrap_or("prefer") {
            "disable" => TlsMode::Disable,
            "allow" | "prefer" => TlsMode::Prefer,
            "require" => TlsMode::Require,
            "verify-ca" => TlsMode::VerifyCa,
            "verify-full" => TlsMode::VerifyFull,
            other => {
                return Err(refuse(format!(
                    "unknown sslmode `{other}`: use disable, prefer, require, verify-ca or verify-full"
                )));
            }
        };
        let driver_url = if kept.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        // The driver's parse error never quotes the URL, so it cannot leak
        // the password.
        let mut config =
            tokio_postgres::Config::from_str(&driver_url).map_err(|source| Error::Backend {
                action: "parse the URL of".to_owned(),
                location: redacted.clone(),
                source: Box::new(source),
            })?;
        fill_from_env(&mut config, env);
        config.ssl_mode(match tls {
            TlsMode::Disable => SslMode::Disable,
            TlsMode::Prefer => SslMode::Prefer,
            _ => SslMode::Require,
        });
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        config.application_name("costform");
        if config.get_password().is_none()
            && let Some(password) = pgpass::lookup(&config, env)
        {
            config.password(password);
        }
        let root_cert = root_cert.map(PathBuf::from).or_else(|| {
            let default = PathBuf::from(env("HOME")?).join(".postgresql/root.crt");
            default.is_file().then_some(default)
        });
        let location = location(&config, &schema, &workspace);
        Ok(Self {
            config,
            tls,
            root_cert,
            schema,
            workspace,
            location,
        })
    }
}

/// Fills what the URL left out from `PGHOST`, `PGPORT`, `PGUSER`,
/// `PGPASSWORD` and `PGDATABASE`, with libpq's defaults after them.
fn fill_from_env(config: &mut tokio_postgres::Config, env: &dyn Fn(&str) -> Option<String>) {
    let set = |name: &str| env(name).filter(|value| !value.is_empty());
    if config.get_hosts().is_empty() {
        let hosts = set("PGHOST").unwrap_or_else(|| "localhost".to_owned());
        for host in hosts.split(',') {
            config.host(host);
        }
    }
    if config.get_ports().is_empty()
        && let Some(port) = set("PGPORT").and_then(|port| port.parse().ok())
    {
        config.port(port);
    }
    if config.get_user().is_none() {
        let user = set("PGUSER")
            .or_else(|| set("USER"))
            .unwrap_or_else(|| "postgres".to_owned());
        config.user(&user);
    }
    if config.get_password().is_none()
        && let Some(password) = set("PGPASSWORD")
    {
        config.password(password);
    }
    if config.get_dbname().is_none()
        && let Some(dbname) = set("PGDATABASE")
    {
        config.dbname(&dbname);
    }
}

/// `postgres://USER@HOST:PORT/DB?schema=S&workspace=W`: the connection as
/// resolved, without the password, and itself a valid `--state`.
fn location(config: &tokio_postgres::Config, schema: &str, workspace: &str) -> String {
    let user = config.get_user().unwrap_or_default();
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let dbname = config.get_dbname().unwrap_or(user);
    let mut query = String::new();
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(host)) if host.contains(':') => format!("[{host}]:{port}"),
        Some(Host::Tcp(host)) => format!("{host}:{port}"),
        Some(Host::Unix(path)) => {
            query = format!("host={}&port={port}&", path.display());
            String::new()
        }
        None => String::new(),
    };
    format!("postgres://{user}@{host}/{dbname}?{query}schema={schema}&workspace={workspace}")
}

/// The URL with any password removed, for messages before it is parsed.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "postgres://…".to_owned();
    };
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let authority = match authority.rsplit_once('@') {
        Some((credentials, host)) => {
            let user = credentials
                .split_once(':')
                .map_or(credentials, |(user, _)| user);
            format!("{user}@{host}")
        }
        None => authority.to_owned(),
    };
    format!("{scheme}://{authority}/{path}")
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let hex = bytes
            .get(index + 1..index + 3)
            .and_then(|pair| std::str::from_utf8(pair).ok())
            .and_then(|pair| u8::from_str_radix(pair, 16).ok());
        match (bytes[index], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                index += 3;
            }
            (byte, _) => {
                out.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str, env: &[(&str, &str)]) -> Result<Settings, Error> {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        Settings::parse(url, "default", &|name| {
            env.iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.clone())
        })
    }

    #[test]
    fn the_location_names_everything_but_the_password() {
        let settings = parse(
            "postgres://ci:s3cret-marker@db.example:6543/billing?schema=team_a&workspace=prod&sslmode=require",
            &[],
        )
        .unwrap();
        assert_eq!(
            settings.location,
            "postgres://ci@db.example:6543/billing?schema=team_a&workspace=prod"
        );
        assert_eq!(settings.config.get_password(), Some(&b"s3cret-marker"[..]));
        assert_eq!(settings.tls, TlsMode::Require);
        assert!(!format!("{settings:?}").contains("s3cret"));
    }

    #[test]
    fn pg_variables_fill_what_the_url_leaves_out() {
        let settings = parse(
            "postgresql://",
            &[
                ("PGHOST", "/run/pg"),
                ("PGPORT", "6000"),
                ("PGUSER", "alice"),
                ("PGPASSWORD", "pw"),
                ("PGDATABASE", "spend"),
                ("PGSSLMODE", "disable"),
            ],
        )
        .unwrap();
        assert_eq!(
            settings.location,
            "postgres://alice@/spend?host=/run/pg&port=6000&schema=costform&workspace=default"
        );
        assert_eq!(settings.config.get_password(), Some(&b"pw"[..]));
        assert_eq!(settings.tls, TlsMode::Disable);
    }

    #[test]
    fn bad_names_and_modes_are_refused_without_the_password() {
        for url in [
            "postgres://u:hunter2@h/db?schema=a;drop",
            "postgres://u:hunter2@h/db?sslmode=sometimes",
            "postgres://u:hunter2@h/db?nonsense=1",
        ] {
            let message = parse(url, &[]).unwrap_err().to_string();
            assert!(!message.contains("hunter2"), "{message}");
            assert!(message.contains("postgres://u@h/db"), "{message}");
        }
    }
}
