//! Writing one ready result to `results/`: streamed from its spool to a
//! temporary file beside the target (JSON pretty-printed on the way), hashed
//! as it is written, added up by its kind, then renamed into place and kept
//! in the history.
//!
//! Nothing here holds a whole result in memory, nor a tree parsed from it:
//! memory stays flat however large the result.
//!
//! The history (`results/history/`) keeps every result fetched, named by
//! report, fetch time and request hash. `results/NAME.EXT` is the latest
//! one, a hard link to the same bytes (so the history costs no space until
//! a later fetch replaces the latest); a file system without hard links gets
//! a copy.

use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Seek as _, SeekFrom, Write};
use std::path::{Path, PathBuf};

use costform_model::cost_rows::ResultOrigin;
use costform_model::ids::ReportName;
use costform_model::request::PlannedRequest;
use costform_model::result_body::ResultBody;
use costform_model::state::ResultFormat;
use jiff::Timestamp;
use sha2::{Digest as _, Sha256};

use crate::atomic::replace_unsynced;
use crate::error::Error;
use crate::summarize::{ResultSummary, summarize};

/// The history's directory, inside the results directory.
pub(crate) const HISTORY_DIR: &str = "history";

/// A result file written and synced, not yet recorded in the state.
pub(crate) struct Written {
    pub(crate) path: PathBuf,
    /// The same result in the history.
    pub(crate) history: PathBuf,
    /// When it was fetched, as its history name says.
    pub(crate) fetched_at: Timestamp,
    pub(crate) sha256: String,
    /// What the result adds up to, or why its kind could not read it (it is
    /// still written: it is what Atlas answered).
    pub(crate) summary: Result<ResultSummary, String>,
}

/// Writes the ready result `body` of report `name` into `directory` as
/// `NAME.EXT`, atomically, on a blocking thread.
pub(crate) async fn write_result(
    name: &ReportName,
    request: &PlannedRequest,
    mut body: ResultBody,
    format: ResultFormat,
    directory: &Path,
) -> Result<Written, Error> {
    let path = directory.join(format!("{name}.{}", format.extension()));
    let fetched_at = Timestamp::now();
    let history = directory
        .join(HISTORY_DIR)
        .join(history_name(name, request, fetched_at, format));
    let (name, request, directory, target) = (
        name.clone(),
        request.clone(),
        directory.to_owned(),
        path.clone(),
    );
    tokio::task::spawn_blocking(move || {
        let file = target.display().to_string();
        let origin = ResultOrigin {
            report: name.as_str(),
            org_id: request.org_id.as_str(),
            file: &file,
        };
        let summary = body
            .reader()
            .map_err(|error| error.to_string())
            .and_then(|reader| {
                summarize(&origin, &request, format, reader).map_err(|error| error.to_string())
            });
        create_results_dir(&directory.join(HISTORY_DIR))?;
        let mut sha256 = String::new();
        replace_unsynced(&target, |file| {
            sha256 = copy_result(&mut body, format, file)?;
            Ok(())
        })?;
        keep(&target, &history)?;
        Ok(Written {
            path: target,
            history,
            fetched_at,
            sha256,
            summary,
        })
    })
    .await
    .map_err(|join| Error::io("write", &path)(io::Error::other(join)))?
}

/// `NAME.20261202T013000.123Z.1a2b3c4d5e6f.EXT`: the report, the fetch time
/// (UTC, to the millisecond) and the first 12 hex digits of the request's
/// hash, so that names sort by report, then time.
fn history_name(
    name: &ReportName,
    request: &PlannedRequest,
    fetched_at: Timestamp,
    format: ResultFormat,
) -> String {
    let hash: String = request.request_sha256.chars().take(12).collect();
    format!(
        "{name}.{}.{hash}.{}",
        fetched_at.strftime("%Y%m%dT%H%M%S%.3fZ"),
        format.extension()
    )
}

/// Links `latest` into the history as `kept` (a copy where links are not
/// supported). A name already taken is replaced: the same report fetched
/// twice in one millisecond.
fn keep(latest: &Path, kept: &Path) -> Result<(), Error> {
    match fs::hard_link(latest, kept) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {
            fs::remove_file(kept).map_err(Error::io("replace", kept))?;
            keep(latest, kept)
        }
        Err(_) => fs::copy(latest, kept)
            .map(drop)
            .map_err(Error::io("keep a copy of", latest)),
    }
}

/// Copies `body` into `file`, JSON pretty-printed (keys in Atlas's order),
/// and returns the SHA-256 of what was written. Bytes that are not JSON are
/// kept as they came: they are still what Atlas said.
fn copy_result(body: &mut ResultBody, format: ResultFormat, file: &mut File) -> io::Result<String> {
    if format == ResultFormat::Json {
        let mut out = Hashing::new(BufWriter::new(&mut *file));
        let reader = BufReader::new(body.reader()?);
        let mut json = serde_json::Deserializer::from_reader(reader);
        let mut pretty = serde_json::Serializer::pretty(&mut out);
        let transcoded = serde_transcode::transcode(&mut json, &mut pretty)
            .and_then(|()| json.end())
            .and_then(|()| out.write_all(b"\n").map_err(serde_json::Error::io));
        if transcoded.is_ok() {
            return out.finish();
        }
        drop(out);
        file.set_len(0)?;
        file.seek(SeekFrom::Start(0))?;
    }
    let mut out = Hashing::new(BufWriter::new(&mut *file));
    io::copy(body.reader()?, &mut out)?;
    out.finish()
}

/// A writer that hashes what passes through it.
struct Hashing<W: Write> {
    inner: W,
    hasher: Sha256,
}

impl<W: Write> Hashing<W> {
    fn new(inner: W) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
        }
    }

    /// Flushes and returns the hash, in hex.
    fn finish(mut self) -> io::Result<String> {
        self.inner.flush()?;
        Ok(hex::encode(self.hasher.finalize()))
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let written = self.inner.write(bytes)?;
        self.hasher.update(&bytes[..written]);
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Creates the results directory with an explicit mode, not the umask alone:
/// under `umask 000` it would be created world-writable, and anyone could
/// then swap result files between fetches.
fn create_results_dir(directory: &Path) -> Result<(), Error> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o755);
    builder
        .create(directory)
        .map_err(Error::io("create", directory))
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use super::*;

    fn copied(body: &[u8], format: ResultFormat) -> (String, String) {
        let mut file = tempfile::tempfile().unwrap();
        let sha = copy_result(&mut ResultBody::from_bytes(body), format, &mut file).unwrap();
        let mut written = String::new();
        file.seek(SeekFrom::Start(0)).unwrap();
        file.read_to_string(&mut written).unwrap();
        assert_eq!(sha, hex::encode(Sha256::digest(written.as_bytes())));
        (written, sha)
    }

    #[test]
    fn json_is_pretty_printed_in_atlas_order() {
        let (written, _) = copied(
            br#"{"usageDetails":[{"usageDate":"2026-10-01","service":"Clusters","usageAmount":51.19}]}"#,
            ResultFormat::Json,
        );
        assert_eq!(
            written,
            "{\n  \"usageDetails\": [\n    {\n      \"usageDate\": \"2026-10-01\",\n      \
             \"service\": \"Clusters\",\n      \"usageAmount\": 51.19\n    }\n  ]\n}\n"
        );
    }

    #[test]
    fn bytes_that_are_not_json_are_kept_as_they_came() {
        let long_prefix = format!("{{\"usageDetails\": [{}", "1,".repeat(50_000));
        for body in ["<html>sign in</html>", long_prefix.as_str()] {
            let (written, _) = copied(body.as_bytes(), ResultFormat::Json);
            assert_eq!(written, body);
        }
    }

    #[test]
    fn csv_is_copied_byte_for_byte() {
        let csv = "Usage Date,Service,Usage Amount\r\n2026-10-01,\"Clu,sters\",1.50\r\n";
        assert_eq!(copied(csv.as_bytes(), ResultFormat::Csv).0, csv);
    }
}
