//! A throwaway PostgreSQL cluster for the end-to-end tests: Debian's server
//! binaries (`postgresql`, which `.ci/run` installs), `initdb` in a
//! temporary directory as an unprivileged user when the tests run as root
//! (the server refuses root), loopback on a free port, a password that the
//! secret-marker test looks for, and a stop by PID when dropped. No mock
//! database: the locking and durability under test are the server's.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The superuser the tests connect as.
pub const USER: &str = "costform";
/// Its password: a marker no output or file may ever contain.
pub const PASSWORD: &str = "pg-secret-marker-5b7c";

/// A running cluster; dropping it stops the server and removes its files.
pub struct Postgres {
    root: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    server: Option<Child>,
    tls: bool,
}

impl Postgres {
    /// A cluster without TLS.
    pub fn start() -> Self {
        Self::start_with(false)
    }

    /// A cluster that serves TLS with a certificate for `localhost` signed
    /// by a CA the test generates (see [`Postgres::ca_file`]), and accepts
    /// TCP connections only over TLS.
    pub fn start_with_tls() -> Self {
        Self::start_with(true)
    }

    fn start_with(tls: bool) -> Self {
        let bin = server_bin_dir();
        let root = tempfile::Builder::new()
            .prefix("costform-pg.")
            .tempdir()
            .expect("a temporary directory for the cluster");
        let password_file = root.path().join("password");
        std::fs::write(&password_file, PASSWORD).expect("write the password file");
        if tls {
            write_certificates(root.path());
        }
        give_to_server_user(root.path());
        let initdb = as_server_user(&bin.join("initdb"))
            .arg("-D")
            .arg(root.path().join("data"))
            .args([
                "-U",
                USER,
                "--auth=scram-sha-256",
                "--no-sync",
                "-E",
                "UTF8",
            ])
            .arg(format!("--pwfile={}", password_file.display()))
            .output()
            .expect("initdb runs");
        assert!(initdb.status.success(), "initdb failed\n{}", text(&initdb));
        if tls {
            // TCP connections must use TLS: one that succeeds proves it.
            let hba = root.path().join("data/pg_hba.conf");
            let rules = std::fs::read_to_string(&hba).expect("read pg_hba.conf");
            let rules: String = rules
                .lines()
                .map(|line| match line.strip_prefix("host ") {
                    Some(rest) => format!("hostssl {rest}\n"),
                    None => format!("{line}\n"),
                })
                .collect();
            std::fs::write(&hba, rules).expect("write pg_hba.conf");
        }
        let mut cluster = Self {
            root,
            bin,
            port: free_port(),
            server: None,
            tls,
        };
        cluster.start_server();
        cluster
    }

    /// Starts the server on the cluster's data directory and waits until
    /// it accepts connections.
    pub fn start_server(&mut self) {
        assert!(self.server.is_none(), "the server is already running");
        let root = self.root.path();
        let mut command = as_server_user(&self.bin.join("postgres"));
        command
            .arg("-D")
            .arg(root.join("data"))
            .args(["-p", &self.port.to_string()])
            .args(["-c", "listen_addresses=127.0.0.1"])
            .arg("-c")
            .arg(format!("unix_socket_directories={}", root.display()))
            .args(["-c", "max_connections=60", "-c", "shared_buffers=16MB"]);
        if self.tls {
            command
                .args(["-c", "ssl=on"])
                .arg("-c")
                .arg(format!(
                    "ssl_cert_file={}",
                    root.join("server.crt").display()
                ))
                .arg("-c")
                .arg(format!(
                    "ssl_key_file={}",
                    root.join("server.key").display()
                ));
        }
        let log = std::fs::File::create(root.join("server.log")).expect("create the server log");
        let server = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("postgres starts");
        self.server = Some(server);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let ready = Command::new(self.bin.join("pg_isready"))
                .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-q"])
                .status()
                .is_ok_and(|status| status.success());
            if ready {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "postgres did not start within 60 s\n{}",
                self.server_log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the server as an administrator would (`SIGINT`: fast
    /// shutdown, sessions ended), by its PID, and waits for it.
    pub fn stop_server(&mut self) {
        if let Some(mut server) = self.server.take() {
            signal(&server, "INT");
            server.wait().expect("reap postgres");
        }
    }

    /// `postgres://costform:PASSWORD@127.0.0.1:PORT/postgres?sslmode=disable`
    /// with `extra` query parameters (`&workspace=x`).
    pub fn url(&self, extra: &str) -> String {
        format!(
            "postgres://{USER}:{PASSWORD}@127.0.0.1:{}/postgres?sslmode=disable{extra}",
            self.port
        )
    }

    /// The URL for `host` with `sslmode` and no password (it comes from
    /// `PGPASSWORD` in the TLS test).
    pub fn tls_url(&self, host: &str, sslmode: &str, root_cert: &Path) -> String {
        format!(
            "postgres://{USER}@{host}:{}/postgres?sslmode={sslmode}&sslrootcert={}",
            self.port,
            root_cert.display()
        )
    }

    /// The CA that signed the server's certificate (TLS clusters only).
    pub fn ca_file(&self) -> PathBuf {
        self.root.path().join("ca.crt")
    }

    /// Runs SQL with `psql` and returns its unaligned output.
    pub fn query(&self, sql: &str) -> String {
        let output = self.psql(sql);
        assert!(
            output.status.success(),
            "psql failed: {sql}\n{}",
            text(&output)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    /// As [`Postgres::query`], `None` when it fails (a table not created
    /// yet), for polling.
    pub fn try_query(&self, sql: &str) -> Option<String> {
        let output = self.psql(sql);
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
    }

    /// A `psql` session kept open under `application_name` `name`, as
    /// another client of the database would be, to hold locks with
    /// [`Session::run`]; it ends when dropped.
    pub fn session(&self, name: &str) -> Session {
        let child = Command::new(self.bin.join("psql"))
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", USER])
            .args(["-d", "postgres", "-AtXq"])
            .env("PGPASSWORD", PASSWORD)
            .env("PGSSLMODE", "prefer")
            .env("PGAPPNAME", name)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("psql runs");
        Session { child }
    }

    /// The server process id of the session named `name` (its
    /// `application_name`) once it has taken an advisory lock.
    pub fn locking_pid(&self, name: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let pid = self.query(&format!(
                "SELECT a.pid FROM pg_stat_activity a JOIN pg_locks l USING (pid) \
                 WHERE a.application_name = '{name}' AND l.locktype = 'advisory' AND l.granted"
            ));
            if !pid.is_empty() {
                return pid;
            }
            assert!(
                Instant::now() < deadline,
                "the session `{name}` took no advisory lock within 30 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn psql(&self, sql: &str) -> Output {
        Command::new(self.bin.join("psql"))
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", USER])
            .args(["-d", "postgres", "-AtX", "-v", "ON_ERROR_STOP=1", "-c", sql])
            .env("PGPASSWORD", PASSWORD)
            .env("PGSSLMODE", "prefer")
            .output()
            .expect("psql runs")
    }

    /// The server's log, for failure messages.
    pub fn server_log(&self) -> String {
        std::fs::read_to_string(self.root.path().join("server.log")).unwrap_or_default()
    }
}

/// An open `psql` session (see [`Postgres::session`]).
pub struct Session {
    child: Child,
}

impl Session {
    /// Sends `sql` (ended by `;`) to the session, without waiting for it.
    pub fn run(&mut self, sql: &str) {
        use std::io::Write as _;
        let stdin = self.child.stdin.as_mut().expect("psql's stdin is piped");
        writeln!(stdin, "{sql}").expect("write to psql");
        stdin.flush().expect("flush psql's stdin");
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if let Some(mut server) = self.server.take() {
            // Immediate shutdown: the files are removed next.
            signal(&server, "QUIT");
            let _ = server.wait();
        }
    }
}

/// The directory of Debian's server binaries: `COSTFORM_PG_BIN`, else the
/// newest `/usr/lib/postgresql/*/bin`.
fn server_bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("COSTFORM_PG_BIN") {
        return PathBuf::from(dir);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL's server is installed (apt-get install postgresql; .ci/run does)")
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("postgres").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .expect("a /usr/lib/postgresql/VERSION/bin/postgres")
        .1
}

/// Whether the tests run as root, which the server refuses to run as.
fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| String::from_utf8_lossy(&output.stdout).trim() == "0")
}

/// `program`, run as `nobody` (uid and gid 65534) when the tests run as
/// root, else as is.
fn as_server_user(program: &Path) -> Command {
    if running_as_root() {
        let mut command = Command::new("setpriv");
        command
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(program);
        command
    } else {
        Command::new(program)
    }
}

/// Hands the cluster's directory to the server's user.
fn give_to_server_user(dir: &Path) {
    if running_as_root() {
        let status = Command::new("chown")
            .args(["-R", "65534:65534"])
            .arg(dir)
            .status()
            .expect("chown runs");
        assert!(status.success(), "chown the cluster directory");
    }
}

/// A CA and a certificate for `localhost` it signs, as PEM files in `dir`.
fn write_certificates(dir: &Path) {
    let ca_key = rcgen::KeyPair::generate().expect("a CA key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "costform test CA");
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).expect("a CA certificate");
    let server_key = rcgen::KeyPair::generate().expect("a server key");
    let server = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .expect("server params")
        .signed_by(&server_key, &ca)
        .expect("a server certificate");
    std::fs::write(dir.join("ca.crt"), ca.pem()).expect("write the CA");
    std::fs::write(dir.join("server.crt"), server.pem()).expect("write the certificate");
    let key = dir.join("server.key");
    std::fs::write(&key, server_key.serialize_pem()).expect("write the key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600))
            .expect("the key is private");
    }
}

/// A port nobody listens on now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port()
}

/// Sends `SIGNAL` to `child` by its PID.
fn signal(child: &Child, name: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(child.id().to_string())
        .status();
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}
