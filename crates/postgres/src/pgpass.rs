//! `~/.pgpass` (or `PGPASSFILE`), read as libpq reads it: lines of
//! `host:port:database:user:password`, `*` matching anything, `\:` and
//! `\\` escaped, and the file ignored when others may read it.

use std::path::PathBuf;

use tokio_postgres::config::Host;

/// The password for the first host, port, database and user of `config`.
pub fn lookup(
    config: &tokio_postgres::Config,
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<String> {
    let path = env("PGPASSFILE")
        .map(PathBuf::from)
        .or_else(|| Some(PathBuf::from(env("HOME")?).join(".pgpass")))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path).ok()?.permissions().mode();
        if mode & 0o077 != 0 {
            tracing::warn!(path = %path.display(), "ignoring a password file that group or others can read: chmod 0600 it");
            return None;
        }
    }
    let text = std::fs::read_to_string(&path).ok()?;
    let host = match config.get_hosts().first()? {
        Host::Tcp(host) => host.clone(),
        // libpq matches a socket connection against `localhost`.
        Host::Unix(_) => "localhost".to_owned(),
    };
    let port = config
        .get_ports()
        .first()
        .copied()
        .unwrap_or(5432)
        .to_string();
    let user = config.get_user()?;
    let database = config.get_dbname().unwrap_or(user);
    let wanted = [host.as_str(), port.as_str(), database, user];
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            let fields = split(line);
            let [h, p, d, u, password] = fields.as_slice() else {
                return None;
            };
            [h, p, d, u]
                .iter()
                .zip(wanted)
                .all(|(field, value)| *field == "*" || *field == value)
                .then(|| password.clone())
        })
}

/// The fields of one line, unescaped.
fn split(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let (Some(next), Some(field)) = (chars.next(), fields.last_mut()) {
                    field.push(next);
                }
            }
            ':' if fields.len() < 5 => fields.push(String::new()),
            c => {
                if let Some(field) = fields.last_mut() {
                    field.push(c);
                }
            }
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use std::str::FromStr as _;

    use super::*;

    #[test]
    fn the_first_matching_line_wins_with_wildcards_and_escapes() {
        let dir = std::env::temp_dir().join(format!("costform-pgpass-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("pgpass");
        std::fs::write(
            &file,
            "# comment\nother:5432:*:ci:nope\ndb.example:*:billing:ci:pa\\:ss\\\\word\n*:*:*:*:fallback\n",
        )
        .unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let env = |name: &str| (name == "PGPASSFILE").then(|| file.display().to_string());
        let config = tokio_postgres::Config::from_str("postgres://ci@db.example/billing").unwrap();
        assert_eq!(lookup(&config, &env).as_deref(), Some("pa:ss\\word"));
        let config = tokio_postgres::Config::from_str("postgres://bob@elsewhere/x").unwrap();
        assert_eq!(lookup(&config, &env).as_deref(), Some("fallback"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert_eq!(lookup(&config, &env), None);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
