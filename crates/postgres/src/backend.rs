//! [`PostgresBackend`]: the state of one workspace in PostgreSQL tables,
//! read and locked through the [`StateBackend`] interface.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use costform_model::state::{STATE_FORMAT_VERSION, State};
use costform_planner::journal::{foreign_lineage, read as read_journal};
use costform_planner::{
    Error, LockInfo, LockOptions, LockedState, Record, StateBackend, fold_uncommitted,
};
use tokio_postgres::types::Json;

use crate::connection::{Connection, transaction};
use crate::json_text::JsonText;
use crate::schema::{self, quoted};
use crate::session::{Session, insert_journal_sql, journal_values};
use crate::settings::Settings;

/// How often a waiting `lock` asks for the advisory lock again.
const RETRY_EVERY: Duration = Duration::from_millis(100);

/// One workspace of a PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PostgresBackend {
    settings: Settings,
    results_base: PathBuf,
}

impl PostgresBackend {
    /// The state at `url` (`postgres://…`), in `workspace` unless the URL
    /// names one. Result paths are recorded relative to `results_base`
    /// (the definitions directory: the database has none), where the local
    /// fallback journal also goes. Nothing is connected yet.
    pub fn new(
        url: &str,
        workspace: &str,
        results_base: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, Error> {
        Ok(Self {
            settings: Settings::parse(url, workspace, env)?,
            results_base: results_base.to_owned(),
        })
    }

    /// Where tokens go when the database cannot be reached mid-run:
    /// `costform.WORKSPACE.fallback.journal` in the definitions directory,
    /// folded in by the next run from there.
    pub fn fallback_path(&self) -> PathBuf {
        self.results_base.join(format!(
            "costform.{}.fallback.journal",
            self.settings.workspace
        ))
    }

    /// A session for a command that writes, the tables created or
    /// migrated first.
    fn connect(&self) -> Result<Connection, Error> {
        let connection = Connection::open(&self.settings)?;
        schema::ensure(&connection, &self.settings.schema, &self.settings.location)?;
        Ok(connection)
    }

    /// A session for a command that only reads; `None` when costform's
    /// tables were never created, which is "no state". Nothing is created,
    /// so a role with `SELECT` alone is enough (a pull request's `plan`).
    fn connect_to_read(&self) -> Result<Option<Connection>, Error> {
        let connection = Connection::open(&self.settings)?;
        let exists = schema::exists(&connection, &self.settings.schema, &self.settings.location)?;
        Ok(exists.then_some(connection))
    }

    /// The current state and the records journaled since (`None`: no
    /// journal rows), as one consistent snapshot.
    fn load(&self, connection: &Connection) -> Result<(Option<State>, Option<Vec<Record>>), Error> {
        let s = quoted(&self.settings.schema);
        let workspace = self.settings.workspace.clone();
        let (body, records) = connection.call("read", move |client| {
            Box::pin(async move {
                let begin = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
                transaction(&client, begin, async {
                let body = client
                    .query_opt(
                        &format!(
                            "SELECT body FROM {s}.states WHERE workspace = $1 ORDER BY serial DESC LIMIT 1"
                        ),
                        &[&workspace],
                    )
                    .await?
                    .map(|row| row.get::<_, JsonText>(0).0);
                let records: Vec<serde_json::Value> = client
                    .query(
                        &format!("SELECT record FROM {s}.journal WHERE workspace = $1 ORDER BY id"),
                        &[&workspace],
                    )
                    .await?
                    .iter()
                    .map(|row| row.get::<_, Json<serde_json::Value>>(0).0)
                    .collect();
                Ok((body, records))
                })
                .await
            })
        })?;
        let state = body.map(|body| self.decode(&body)).transpose()?;
        let records = records
            .into_iter()
            .map(|record| serde_json::from_value(record).map_err(|error| self.corrupt(&error)))
            .collect::<Result<Vec<Record>, Error>>()?;
        Ok((state, (!records.is_empty()).then_some(records)))
    }

    /// A stored state, its format checked and upgraded as the local file's
    /// is. A state of this build's format is parsed straight from the
    /// bytes: a 10,000-entry state is megabytes, read by every `plan`.
    fn decode(&self, body: &[u8]) -> Result<State, Error> {
        #[derive(serde::Deserialize)]
        struct FormatVersion {
            format_version: u32,
        }
        let found = serde_json::from_slice::<FormatVersion>(body)
            .map_err(|error| self.corrupt(&error))?
            .format_version;
        if found == STATE_FORMAT_VERSION {
            return serde_json::from_slice(body).map_err(|error| self.corrupt(&error));
        }
        if found > STATE_FORMAT_VERSION {
            return Err(Error::BackendRefused {
                location: self.settings.location.clone(),
                reason: format!(
                    "the state has format version `{found}`, newer than `{STATE_FORMAT_VERSION}` which this costform reads: upgrade costform"
                ),
            });
        }
        let mut body: serde_json::Value =
            serde_json::from_slice(body).map_err(|error| self.corrupt(&error))?;
        let upgraded_from = costform_model::state::upgrade(&mut body);
        let mut state: State =
            serde_json::from_value(body).map_err(|error| self.corrupt(&error))?;
        state.upgraded_from = upgraded_from;
        Ok(state)
    }

    fn corrupt(&self, error: &serde_json::Error) -> Error {
        Error::BackendRefused {
            location: self.settings.location.clone(),
            reason: format!("the stored state is not a valid costform state: {error}"),
        }
    }

    /// The records of a fallback journal a run left here, checked to
    /// continue `lineage`.
    fn fallback_records(&self, state: Option<&State>) -> Result<Option<Vec<Record>>, Error> {
        let path = self.fallback_path();
        let Some(records) = read_journal(&path)? else {
            return Ok(None);
        };
        if let Some(state) = state
            && let Some(lineage) = foreign_lineage(&records, &state.lineage)
        {
            return Err(Error::BackendRefused {
                location: self.settings.location.clone(),
                reason: format!(
                    "the fallback journal `{}` belongs to state lineage `{lineage}`, not `{}`: it was not folded in; move it aside once its tokens are safe",
                    path.display(),
                    state.lineage
                ),
            });
        }
        Ok(Some(records))
    }

    /// Waits for the workspace's advisory lock; the session holds it from
    /// then on.
    fn acquire(&self, connection: &Connection, options: &LockOptions) -> Result<(), Error> {
        let deadline = options.timeout.map(|timeout| Instant::now() + timeout);
        loop {
            let key = self.settings.lock_key();
            let taken = connection.call("lock", move |client| {
                Box::pin(async move {
                    let row = client
                        .query_one(
                            "SELECT pg_try_advisory_lock(hashtextextended($1, 0))",
                            &[&key],
                        )
                        .await?;
                    Ok(row.get::<_, bool>(0))
                })
            })?;
            if taken {
                return Ok(());
            }
            if deadline.is_some_and(|deadline| Instant::now() < deadline) {
                std::thread::sleep(RETRY_EVERY);
                continue;
            }
            // The holder writes its row just after taking the lock: give it
            // a moment, so the message can name it.
            let mut holder = self.holder(connection)?;
            for _ in 0..10 {
                if holder.is_some() {
                    break;
                }
                std::thread::sleep(RETRY_EVERY);
                holder = self.holder(connection)?;
            }
            return Err(Error::Locked {
                lock: self.settings.location.clone(),
                age: holder.as_ref().and_then(LockInfo::age),
                holder: holder.map(Box::new),
                holder_alive: Some(true),
            });
        }
    }

    /// The recorded holder of the workspace's lock, if any.
    fn holder(&self, connection: &Connection) -> Result<Option<LockInfo>, Error> {
        Ok(self.holder_row(connection)?.map(|(info, _)| info))
    }

    /// The lock row and the server process id of its session.
    fn holder_row(&self, connection: &Connection) -> Result<Option<(LockInfo, i32)>, Error> {
        let s = quoted(&self.settings.schema);
        let workspace = self.settings.workspace.clone();
        let row = connection.call("read the lock of", move |client| {
            Box::pin(async move {
                client
                    .query_opt(
                        &format!(
                            "SELECT id, user_name, host, pid, command, \
                             to_char(created AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), session_pid \
                             FROM {s}.locks WHERE workspace = $1"
                        ),
                        &[&workspace],
                    )
                    .await
            })
        })?;
        Ok(row.map(|row| {
            let created: String = row.get(5);
            let info = LockInfo {
                id: row.get(0),
                user: row.get(1),
                host: row.get(2),
                pid: u32::try_from(row.get::<_, i32>(3)).unwrap_or_default(),
                command: row.get(4),
                created: created.parse().unwrap_or_else(|_| jiff::Timestamp::now()),
            };
            (info, row.get::<_, i32>(6))
        }))
    }

    /// Records this process as the holder, replacing (and reporting) a row
    /// left by a session that ended without removing it.
    fn record_holder(&self, connection: &Connection, info: &LockInfo) -> Result<(), Error> {
        if let Some(previous) = self.holder(connection)? {
            tracing::warn!(
                "took over the lock `{}` of {}@{} (pid `{}`, command `{}`), whose database session is gone: the run that held it ended without releasing it",
                previous.id,
                previous.user,
                previous.host,
                previous.pid,
                previous.command
            );
        }
        let s = quoted(&self.settings.schema);
        let workspace = self.settings.workspace.clone();
        let info = info.clone();
        connection.call("lock", move |client| {
            Box::pin(async move {
                let pid = i32::try_from(info.pid).unwrap_or(i32::MAX);
                client
                    .execute(
                        &format!(
                            "INSERT INTO {s}.locks (workspace, id, user_name, host, pid, command, created, session_pid) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7::text::timestamptz, pg_backend_pid()) \
                             ON CONFLICT (workspace) DO UPDATE SET id = $2, user_name = $3, host = $4, pid = $5, \
                             command = $6, created = $7::text::timestamptz, session_pid = pg_backend_pid()"
                        ),
                        &[
                            &workspace,
                            &info.id,
                            &info.user,
                            &info.host,
                            &pid,
                            &info.command,
                            &info.created.to_string(),
                        ],
                    )
                    .await
            })
        })?;
        Ok(())
    }

    /// Moves the records of a fallback journal into the journal table, in
    /// one transaction, then removes the file: from then on they are the
    /// database's, and the commit that follows folds them in.
    fn adopt_fallback(&self, connection: &Connection, records: &[Record]) -> Result<(), Error> {
        let sql = insert_journal_sql(&self.settings.schema);
        let workspace = self.settings.workspace.clone();
        let values = journal_values(records)?;
        connection.call("fold the fallback journal into", move |client| {
            Box::pin(async move { client.execute(&sql, &[&workspace, &values]).await })
        })?;
        let path = self.fallback_path();
        std::fs::remove_file(&path).map_err(|error| Error::Io {
            action: "remove",
            path,
            source: error,
        })
    }
}

impl StateBackend for PostgresBackend {
    fn location(&self) -> String {
        self.settings.location.clone()
    }

    fn read(&self) -> Result<Option<State>, Error> {
        let (state, mut records) = match self.connect_to_read()? {
            Some(connection) => self.load(&connection)?,
            None => (None, None),
        };
        if let Some(fallback) = self.fallback_records(state.as_ref())? {
            records.get_or_insert_with(Vec::new).extend(fallback);
        }
        fold_uncommitted(state, records, &self.settings.location)
    }

    fn lock(&self, options: &LockOptions) -> Result<LockedState, Error> {
        let connection = self.connect()?;
        self.acquire(&connection, options)?;
        let info = LockInfo::for_this_process(&options.command);
        self.record_holder(&connection, &info)?;
        let (mut state, mut pending) = self.load(&connection)?;
        if let Some(fallback) = self.fallback_records(state.as_ref())? {
            self.adopt_fallback(&connection, &fallback)?;
            (state, pending) = self.load(&connection)?;
        }
        let session = Session::new(
            connection,
            self.settings.clone(),
            info.id,
            self.fallback_path(),
        );
        LockedState::new(
            state,
            pending,
            Box::new(session),
            self.settings.location.clone(),
            self.results_base.clone(),
        )
    }

    fn lock_holder(&self) -> Result<Option<LockInfo>, Error> {
        match self.connect_to_read()? {
            Some(connection) => self.holder(&connection),
            None => Ok(None),
        }
    }

    fn force_unlock(&self, id: &str) -> Result<(), Error> {
        let connection = self.connect()?;
        let Some((holder, session_pid)) = self.holder_row(&connection)? else {
            return Err(Error::NotLocked {
                lock: self.settings.location.clone(),
            });
        };
        if holder.id != id {
            return Err(Error::LockIdMismatch {
                lock: self.settings.location.clone(),
                given: id.to_owned(),
                actual: Some(holder.id),
            });
        }
        // The row goes; the session recorded with it, if it still holds
        // this workspace's advisory lock (a run hung but connected), is
        // ended, which releases it, as `force-unlock` breaks a lock
        // whoever holds it. A bigint advisory key is split in `pg_locks`:
        // its high half in `classid`, its low half in `objid`. A session
        // that holds no such lock (its process id reused by another client
        // since) is left alone.
        let settings = self.settings.clone();
        let id = id.to_owned();
        connection.call("unlock", move |client| {
            Box::pin(async move {
                delete_lock_row(&client, &settings, &id).await?;
                client
                    .execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_locks \
                         WHERE locktype = 'advisory' AND granted AND pid = $1 AND objsubid = 1 \
                         AND ((classid::bigint << 32) | objid::bigint) = hashtextextended($2, 0)",
                        &[&session_pid, &settings.lock_key()],
                    )
                    .await
            })
        })?;
        Ok(())
    }
}

/// Removes the workspace's lock row if it is still `id`'s.
pub(crate) async fn delete_lock_row(
    client: &tokio_postgres::Client,
    settings: &Settings,
    id: &str,
) -> Result<u64, tokio_postgres::Error> {
    client
        .execute(
            &format!(
                "DELETE FROM {}.locks WHERE workspace = $1 AND id = $2",
                quoted(&settings.schema)
            ),
            &[&settings.workspace, &id],
        )
        .await
}
