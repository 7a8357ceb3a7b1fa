//! The PostgreSQL side of a locked state: each group of records (one, or
//! the answers that arrived together) is one committed statement before the
//! engine reports any of them; a commit writes
//! the new version beside the previous ones and clears the journal, in one
//! transaction. When the database goes away mid-run, records go to a local
//! fallback journal (synced, as the local backend's journal is) that the
//! next run folds in, and the commit says so.

use std::path::PathBuf;

use costform_model::cost_rows::CostRow;
use costform_model::state::State;
use costform_planner::{Error, Journal, Record, StateSession};
use tokio_postgres::Statement;
use tokio_postgres::types::Json;

use crate::backend::delete_lock_row;
use crate::connection::{Connection, transaction};
use crate::json_text::JsonText;
use crate::schema::quoted;
use crate::settings::Settings;

/// A held lock and the session holding it.
#[derive(Debug)]
pub struct Session {
    connection: Option<Connection>,
    settings: Settings,
    lock_id: String,
    fallback_path: PathBuf,
    /// The fallback journal, once the database failed a record.
    fallback: Option<Journal>,
    /// How many records went to the fallback journal.
    kept_locally: usize,
    /// The state as of `begin`, which a fallback journal starts from.
    begun_with: Option<State>,
    /// The journal's INSERT, prepared on first use.
    journal_insert: Option<Statement>,
}

impl Session {
    /// The session of `connection`, which holds the lock `lock_id`.
    pub fn new(
        connection: Connection,
        settings: Settings,
        lock_id: String,
        fallback_path: PathBuf,
    ) -> Self {
        Self {
            connection: Some(connection),
            settings,
            lock_id,
            fallback_path,
            fallback: None,
            kept_locally: 0,
            begun_with: None,
            journal_insert: None,
        }
    }

    fn connection(&self) -> Result<&Connection, Error> {
        self.connection
            .as_ref()
            .ok_or_else(|| Error::BackendRefused {
                location: self.settings.location.clone(),
                reason: "the database session has ended".to_owned(),
            })
    }

    /// Inserts `records` as journal rows in one statement, so they are
    /// committed together, in order. The statement is prepared once per
    /// session: a group then costs one round trip and one WAL flush, the
    /// time its tokens wait to be safe.
    fn insert(&mut self, records: &[Record]) -> Result<(), Error> {
        let values = journal_values(records)?;
        let statement = if let Some(statement) = &self.journal_insert {
            statement.clone()
        } else {
            let sql = insert_journal_sql(&self.settings.schema);
            let statement = self
                .connection()?
                .call("record a change in", move |client| {
                    Box::pin(async move { client.prepare(&sql).await })
                })?;
            self.journal_insert = Some(statement.clone());
            statement
        };
        let workspace = self.settings.workspace.clone();
        self.connection()?
            .call("record a change in", move |client| {
                Box::pin(async move { client.execute(&statement, &[&workspace, &values]).await })
            })?;
        Ok(())
    }

    /// Keeps `record` in the local fallback journal, opened (with the state
    /// it continues) on first use.
    fn keep_locally(&mut self, record: &Record, reason: &Error) -> Result<(), Error> {
        if self.fallback.is_none() {
            tracing::warn!(
                "{reason}: keeping what this run records in `{}` until the database is back",
                self.fallback_path.display()
            );
            let base = self
                .begun_with
                .clone()
                .unwrap_or_else(|| State::new(String::new()));
            self.fallback = Some(Journal::open(self.fallback_path.clone(), &base)?);
        }
        if let Some(journal) = &mut self.fallback {
            journal.append(record)?;
        }
        if matches!(record, Record::Put { .. } | Record::Forget { .. }) {
            self.kept_locally += 1;
        }
        Ok(())
    }
}

impl StateSession for Session {
    fn lock_id(&self) -> &str {
        &self.lock_id
    }

    fn begin(&mut self, state: &State) -> Result<(), Error> {
        self.begun_with = Some(state.clone());
        // A database that cannot take this record now is refused before
        // anything is sent.
        self.insert(&[Record::Begin {
            lineage: state.lineage.clone(),
            serial: state.serial,
        }])
    }

    fn append(&mut self, record: &Record) -> Result<(), Error> {
        self.append_all(std::slice::from_ref(record))
    }

    fn append_all(&mut self, records: &[Record]) -> Result<(), Error> {
        let failed = if self.fallback.is_some() {
            // Once the database failed, the order of records is kept by
            // keeping them all in one place.
            Error::BackendRefused {
                location: self.settings.location.clone(),
                reason: "the database went away".to_owned(),
            }
        } else {
            match self.insert(records) {
                Ok(()) => return Ok(()),
                Err(error) => error,
            }
        };
        records
            .iter()
            .try_for_each(|record| self.keep_locally(record, &failed))
    }

    fn write(&mut self, state: &State) -> Result<(), Error> {
        if self.fallback.is_some() {
            return Err(Error::BackendRefused {
                location: self.settings.location.clone(),
                reason: format!(
                    "the database went away during the run: `{}` change(s) recorded after that (tokens included) are kept in the local fallback journal `{}`, which the next run from this directory folds in; everything before was committed",
                    self.kept_locally,
                    self.fallback_path.display()
                ),
            });
        }
        let serial = i64::try_from(state.serial).map_err(|_| Error::SerialExhausted {
            location: self.settings.location.clone(),
        })?;
        let body = JsonText::of(state).map_err(Error::Encode)?;
        let lineage = state.lineage.clone();
        // Cost rows follow the state: a report forgotten, or re-queried and
        // not fetched yet, has no current result and so no rows.
        let with_results: Vec<String> = state
            .reports
            .iter()
            .filter(|(_, entry)| entry.result.is_some())
            .map(|(name, _)| name.to_string())
            .collect();
        let s = quoted(&self.settings.schema);
        let workspace = self.settings.workspace.clone();
        self.connection()?.call("commit", move |client| {
            Box::pin(async move {
                transaction(&client, "BEGIN", async {
                    client
                        .execute(
                            &format!(
                                "INSERT INTO {s}.states (workspace, serial, lineage, body) VALUES ($1, $2, $3, $4)"
                            ),
                            &[&workspace, &serial, &lineage, &body],
                        )
                        .await?;
                    client
                        .execute(
                            &format!(
                                "DELETE FROM {s}.cost_rows WHERE workspace = $1 AND report <> ALL($2)"
                            ),
                            &[&workspace, &with_results],
                        )
                        .await?;
                    client
                        .execute(
                            &format!("DELETE FROM {s}.journal WHERE workspace = $1"),
                            &[&workspace],
                        )
                        .await
                })
                .await
                .map(drop)
            })
        })
    }

    fn stores_cost_rows(&self) -> bool {
        true
    }

    fn replace_cost_rows(&mut self, reports: &[String], rows: &[CostRow]) -> Result<(), Error> {
        let columns = CostColumns::from(rows);
        let reports = reports.to_vec();
        let s = quoted(&self.settings.schema);
        let workspace = self.settings.workspace.clone();
        self.connection()?.call("store the cost rows in", move |client| {
            Box::pin(async move {
                transaction(&client, "BEGIN", async {
                    client
                        .execute(
                            &format!("DELETE FROM {s}.cost_rows WHERE workspace = $1 AND report = ANY($2)"),
                            &[&workspace, &reports],
                        )
                        .await?;
                    client
                        .execute(
                            &format!(
                                "INSERT INTO {s}.cost_rows (workspace, report, kind, org_id, period_start, period_end, \
                                 dimension, group_id, group_name, service, amount, currency) \
                                 SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]::date[], \
                                 $6::text[]::date[], $7::text[], $8::text[], $9::text[], $10::text[], \
                                 $11::text[]::numeric[], $12::text[])"
                            ),
                            &[
                                &workspace,
                                &columns.report,
                                &columns.kind,
                                &columns.org_id,
                                &columns.period_start,
                                &columns.period_end,
                                &columns.dimension,
                                &columns.group_id,
                                &columns.group_name,
                                &columns.service,
                                &columns.amount,
                                &columns.currency,
                            ],
                        )
                        .await
                })
                .await
                .map(drop)
            })
        })
    }

    fn keep_errored(&mut self, state: &State) -> Option<PathBuf> {
        let path = self.fallback_path.with_extension("errored.json");
        let mut text = serde_json::to_string_pretty(state).ok()?;
        text.push('\n');
        costform_planner::write_file_atomically(&path, text.as_bytes()).ok()?;
        Some(path)
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // Clean release: the row goes, then the advisory lock. Were this
        // skipped (a kill), the server would release the lock with the
        // session and the next run would report the row it replaces.
        let Some(connection) = self.connection.take() else {
            return;
        };
        let settings = self.settings.clone();
        let id = self.lock_id.clone();
        let released = connection.call("unlock", move |client| {
            Box::pin(async move {
                delete_lock_row(&client, &settings, &id).await?;
                client
                    .execute(
                        "SELECT pg_advisory_unlock(hashtextextended($1, 0))",
                        &[&settings.lock_key()],
                    )
                    .await
            })
        });
        if let Err(error) = released {
            tracing::debug!(%error, "the lock is released with the session instead");
        }
    }
}

/// Cost rows as one array per column, sent in one `INSERT … unnest`:
/// thousands of rows in one round trip. Dates and amounts travel as text
/// and are cast by the server, so amounts stay exact.
#[derive(Default)]
struct CostColumns {
    report: Vec<String>,
    kind: Vec<String>,
    org_id: Vec<String>,
    period_start: Vec<String>,
    period_end: Vec<String>,
    dimension: Vec<String>,
    group_id: Vec<String>,
    group_name: Vec<Option<String>>,
    service: Vec<Option<String>>,
    amount: Vec<String>,
    currency: Vec<String>,
}

impl From<&[CostRow]> for CostColumns {
    fn from(rows: &[CostRow]) -> Self {
        let mut columns = Self::default();
        for row in rows {
            columns.report.push(row.report.clone());
            columns.kind.push(row.kind.clone());
            columns.org_id.push(row.org_id.clone());
            columns.period_start.push(row.period_start.to_string());
            columns.period_end.push(row.period_end.to_string());
            columns.dimension.push(row.dimension.clone());
            columns.group_id.push(row.group_id.clone());
            columns.group_name.push(row.group_name.clone());
            columns.service.push(row.service.clone());
            columns.amount.push(row.amount.to_string());
            columns.currency.push(row.currency.clone());
        }
        columns
    }
}

/// The statement that appends records (`$2`, a `jsonb[]`) to a workspace's
/// journal (`$1`) in their order, in one statement and so one transaction.
pub fn insert_journal_sql(schema: &str) -> String {
    format!(
        "INSERT INTO {}.journal (workspace, record) \
         SELECT $1, record FROM unnest($2::jsonb[]) WITH ORDINALITY AS records(record, position) \
         ORDER BY position",
        quoted(schema)
    )
}

/// `records` as the `jsonb[]` that [`insert_journal_sql`] takes.
pub fn journal_values(records: &[Record]) -> Result<Vec<Json<serde_json::Value>>, Error> {
    records
        .iter()
        .map(|record| serde_json::to_value(record).map(Json))
        .collect::<Result<_, _>>()
        .map_err(Error::Encode)
}
