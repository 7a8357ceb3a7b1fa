//! costform's tables, in one schema, created and migrated on first use
//! (sqlx's migrator: one transaction, serialized by an advisory lock, with
//! the version recorded). A schema newer than this build is refused by
//! name rather than written to.

use std::sync::Arc;

use costform_planner::Error;
use tokio_postgres::Client;

use crate::connection::{Connection, transaction};

/// The schema version this build writes.
pub const SCHEMA_VERSION: i32 = 2;

/// Each migration, in order: index `n` takes the schema to version `n + 1`.
/// `{s}` is the quoted schema name.
const MIGRATIONS: &[&str] = &[
    r"
CREATE TABLE {s}.states (
    workspace text NOT NULL,
    serial bigint NOT NULL,
    lineage text NOT NULL,
    body jsonb NOT NULL,
    committed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace, serial)
);
COMMENT ON TABLE {s}.states IS 'Every committed version of each workspace''s state; the highest serial is current.';
CREATE TABLE {s}.journal (
    id bigserial PRIMARY KEY,
    workspace text NOT NULL,
    record jsonb NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX journal_workspace ON {s}.journal (workspace, id);
COMMENT ON TABLE {s}.journal IS 'Tokens and changes recorded since the last commit, one transaction each; folded into states by the next run.';
CREATE TABLE {s}.locks (
    workspace text PRIMARY KEY,
    id text NOT NULL,
    user_name text NOT NULL,
    host text NOT NULL,
    pid integer NOT NULL,
    command text NOT NULL,
    created timestamptz NOT NULL,
    session_pid integer NOT NULL
);
COMMENT ON TABLE {s}.locks IS 'Who holds each workspace''s lock; the lock itself is a session advisory lock, released when the session ends.';
CREATE TABLE {s}.cost_rows (
    workspace text NOT NULL,
    report text NOT NULL,
    kind text NOT NULL,
    org_id text NOT NULL,
    period_start date NOT NULL,
    period_end date NOT NULL,
    dimension text NOT NULL,
    group_id text NOT NULL,
    group_name text,
    service text,
    amount numeric NOT NULL,
    currency text NOT NULL,
    fetched_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cost_rows_report ON {s}.cost_rows (workspace, report);
COMMENT ON TABLE {s}.cost_rows IS 'The cost rows of the latest fetched result of each report, for SQL.';
",
    r"
-- 2: a state is stored as the text costform wrote (`json`), compressed with
-- lz4 where the server has it. `jsonb` parsed every commit and rebuilt the
-- text on every read: 25 ms of a 1,000-entry apply's commit, and most of
-- reading a 10,000-entry state. `->` and `->>` still work on `json`.
ALTER TABLE {s}.states ALTER COLUMN body TYPE json USING body::json;
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_settings
               WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
        EXECUTE 'ALTER TABLE {s}.states ALTER COLUMN body SET COMPRESSION lz4';
    END IF;
END
$$;
",
];

/// The quoted schema name, safe in SQL text (names are checked when the
/// URL is parsed).
pub fn quoted(schema: &str) -> String {
    format!("\"{schema}\"")
}

/// Creates or migrates the schema, for a command that writes; refuses one
/// newer than this build.
pub fn ensure(connection: &Connection, schema: &str, location: &str) -> Result<(), Error> {
    let schema = schema.to_owned();
    let found = connection.call("create the tables of", move |client| {
        Box::pin(async move { migrate(&client, &schema).await })
    })?;
    refuse_newer(found, location)
}

/// Whether costform's tables exist, for a command that only reads: it
/// creates nothing, so a read-only role can `plan` against a database no
/// run has written yet (that is "no state"). Tables older than this build
/// are refused until a writing command migrates them; newer ones too.
pub fn exists(connection: &Connection, schema: &str, location: &str) -> Result<bool, Error> {
    let schema = schema.to_owned();
    let found = connection.call("read the tables of", move |client| {
        Box::pin(async move { version(&client, &schema).await })
    })?;
    let Some(found) = found else {
        return Ok(false);
    };
    if found < SCHEMA_VERSION {
        return Err(Error::BackendRefused {
            location: location.to_owned(),
            reason: format!(
                "its tables are at schema version `{found}`, older than `{SCHEMA_VERSION}` which this costform reads: a writing command (`costform apply`, `fetch`) migrates them, with a role that may alter them"
            ),
        });
    }
    refuse_newer(found, location)?;
    Ok(true)
}

fn refuse_newer(found: i32, location: &str) -> Result<(), Error> {
    if found > SCHEMA_VERSION {
        return Err(Error::BackendRefused {
            location: location.to_owned(),
            reason: format!(
                "its tables are at schema version `{found}`, newer than `{SCHEMA_VERSION}` which this costform knows: upgrade costform"
            ),
        });
    }
    Ok(())
}

/// The recorded schema version; `None` when costform's tables were never
/// created there.
async fn version(client: &Client, schema: &str) -> Result<Option<i32>, tokio_postgres::Error> {
    // `to_regclass`, not information_schema: every run asks, and the
    // catalog lookup is a fraction of a millisecond.
    let exists: bool = client
        .query_one(
            "SELECT to_regclass(quote_ident($1) || '.schema_version') IS NOT NULL",
            &[&schema],
        )
        .await?
        .get(0);
    if !exists {
        return Ok(None);
    }
    let row = client
        .query_one(
            &format!("SELECT version FROM {}.schema_version", quoted(schema)),
            &[],
        )
        .await?;
    Ok(Some(row.get(0)))
}

/// The migration itself; returns the version found (newer ones are left
/// untouched).
async fn migrate(client: &Arc<Client>, schema: &str) -> Result<i32, tokio_postgres::Error> {
    if let Some(version) = version(client, schema).await?
        && version >= SCHEMA_VERSION
    {
        return Ok(version);
    }
    let s = quoted(schema);
    transaction(client, "BEGIN", async {
        // Two first runs at once: the second waits, then finds it done.
        client
            .execute(
                "SELECT pg_advisory_xact_lock(hashtextextended('costform-migrate:' || $1, 0))",
                &[&schema],
            )
            .await?;
        client
            .batch_execute(&format!(
                "CREATE SCHEMA IF NOT EXISTS {s};
                 CREATE TABLE IF NOT EXISTS {s}.schema_version (
                     singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
                     version integer NOT NULL,
                     migrated_at timestamptz NOT NULL DEFAULT now()
                 );
                 INSERT INTO {s}.schema_version (version) VALUES (0) ON CONFLICT DO NOTHING;"
            ))
            .await?;
        let version: i32 = client
            .query_one(&format!("SELECT version FROM {s}.schema_version"), &[])
            .await?
            .get(0);
        let mut reached = version;
        for (index, migration) in MIGRATIONS.iter().enumerate() {
            let target = i32::try_from(index + 1).unwrap_or(i32::MAX);
            if target > version {
                client.batch_execute(&migration.replace("{s}", &s)).await?;
                reached = target;
            }
        }
        client
            .execute(
                &format!("UPDATE {s}.schema_version SET version = $1, migrated_at = now()"),
                &[&reached],
            )
            .await?;
        Ok(reached)
    })
    .await
}
