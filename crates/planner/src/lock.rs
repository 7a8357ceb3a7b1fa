//! The lock file `PATH.lock`: one writer at a time, and a message that says
//! who holds the lock and whether it was left behind by a dead process.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::atomic::parent_dir;
use crate::error::Error;
use crate::nofollow;
use crate::store::resolve;

/// How often a waiting `lock` looks at the lock file again.
const RETRY_EVERY: Duration = Duration::from_millis(100);

/// What the lock file says about its holder: enough to find the run, or to
/// tell that it is gone and the lock can be forced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    /// A fresh UUID per lock, which `force-unlock` must name.
    pub id: String,
    /// `$USER` (or `$USERNAME`) of the holder.
    pub user: String,
    /// The holder's host name.
    pub host: String,
    /// The holder's process id.
    pub pid: u32,
    /// When the lock was taken.
    pub created: Timestamp,
    /// The costform command that took it (`apply`, `fetch`).
    pub command: String,
}

impl LockInfo {
    /// A fresh lock for this process running `command`: what every backend
    /// records about its holder.
    pub fn for_this_process(command: &str) -> Self {
        Self {
            id: uuid::Uuid::new_v4().to_string(),
            user: user_name(),
            host: host_name(),
            pid: std::process::id(),
            created: Timestamp::now(),
            command: command.to_owned(),
        }
    }

    /// How long the lock has been held, when the clocks allow telling.
    pub fn age(&self) -> Option<Duration> {
        Duration::try_from(Timestamp::now().duration_since(self.created)).ok()
    }
}

/// How to take the lock.
#[derive(Debug, Clone, Default)]
pub struct LockOptions {
    /// How long to wait for another run to finish; `None` fails at once.
    pub timeout: Option<Duration>,
    /// The command taking the lock, recorded for whoever finds it held.
    pub command: String,
}

/// The held lock; dropping it removes the lock file if it is still ours.
#[derive(Debug)]
pub(crate) struct LockGuard {
    path: PathBuf,
    id: String,
}

impl LockGuard {
    /// The id written in the lock file.
    pub(crate) fn id(&self) -> &str {
        &self.id
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        // Only our own lock: someone may have force-unlocked and locked again.
        if read_lock_file(&self.path).is_some_and(|info| info.id == self.id)
            && let Err(error) = fs::remove_file(&self.path)
        {
            tracing::warn!(path = %self.path.display(), %error, "failed to remove the lock file");
        }
    }
}

/// The lock file next to a state file.
pub(crate) fn lock_path(state_path: &Path) -> PathBuf {
    sibling(state_path, ".lock")
}

/// `PATH` with `suffix` appended to its file name (`costform.state.json.lock`).
pub(crate) fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Takes the lock for `state_path`, waiting up to `options.timeout`.
pub(crate) fn acquire(state_path: &Path, options: &LockOptions) -> Result<LockGuard, Error> {
    let path = lock_path(state_path);
    let deadline = options.timeout.map(|timeout| Instant::now() + timeout);
    let info = LockInfo::for_this_process(&options.command);
    let mut text = serde_json::to_string_pretty(&info).map_err(Error::Encode)?;
    text.push('\n');
    loop {
        match publish(&path, text.as_bytes()) {
            Ok(()) => return Ok(LockGuard { path, id: info.id }),
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
                if deadline.is_some_and(|deadline| Instant::now() < deadline) {
                    std::thread::sleep(RETRY_EVERY);
                    continue;
                }
                return Err(held(&path));
            }
            Err(error) => return Err(Error::io("create", path)(error)),
        }
    }
}

/// Creates the lock file at `path` with `bytes`, whole before it becomes
/// visible: a concurrent run reading it must never find it empty or cut
/// short (2 of 180 concurrent runs did). The bytes go to a temporary file,
/// synced, which is hard-linked to the lock's name: an atomic "create if
/// absent" that fails with `AlreadyExists` when the lock is held. Where the
/// file system has no hard links the lock is created in place.
fn publish(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let prefix = format!(
        ".{}.",
        path.file_name()
            .map(|name| name.to_string_lossy())
            .unwrap_or_default()
    );
    let mut temp = tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(".tmp")
        .make_in(parent_dir(path), nofollow::create_new)?;
    temp.as_file_mut().write_all(bytes)?;
    temp.as_file().sync_all()?;
    match fs::hard_link(temp.path(), path) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Err(error),
        Err(_) => {
            let mut file = nofollow::create_new(path)?;
            file.write_all(bytes)
                .and_then(|()| file.sync_all())
                .inspect_err(|_| {
                    let _ = fs::remove_file(path);
                })
        }
    }
}

/// The error for a lock someone else holds, with what can be learned about them.
fn held(path: &Path) -> Error {
    let holder = read_lock_file(path);
    let age = holder.as_ref().and_then(LockInfo::age);
    let holder_alive = holder.as_ref().and_then(process_alive);
    Error::Locked {
        lock: path.display().to_string(),
        holder: holder.map(Box::new),
        age,
        holder_alive,
    }
}

/// Whether the holder still runs, when that can be told: same host, and a
/// `/proc` to look in.
fn process_alive(info: &LockInfo) -> Option<bool> {
    let proc = Path::new("/proc");
    if info.host != host_name() || !cfg!(target_os = "linux") || !proc.join("self").exists() {
        return None;
    }
    Some(proc.join(info.pid.to_string()).exists())
}

/// Who runs costform, for lock messages: `$USER`, `$USERNAME` or `$LOGNAME`,
/// else the numeric uid (CI containers often set none of them), so a lock
/// never names an empty holder.
fn user_name() -> String {
    ["USER", "USERNAME", "LOGNAME"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|value| !value.is_empty()))
        .or_else(|| {
            let status = fs::read_to_string("/proc/self/status").ok()?;
            let uid = status.lines().find_map(|line| line.strip_prefix("Uid:"))?;
            uid.split_whitespace()
                .next()
                .map(|uid| format!("uid {uid}"))
        })
        .unwrap_or_else(|| "unknown user".to_owned())
}

/// The host name without extra dependencies: `/etc/hostname`, else `$HOSTNAME`.
fn host_name() -> String {
    fs::read_to_string("/etc/hostname")
        .ok()
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_default()
}

fn read_lock_file(path: &Path) -> Option<LockInfo> {
    let text = nofollow::read_unless_missing(path).ok()??;
    serde_json::from_str(&text).ok()
}

/// Who holds the lock on the state at `state_path`, for messages; `None` when
/// it is not locked or the lock file cannot be read.
pub fn read_lock(state_path: &Path) -> Option<LockInfo> {
    read_lock_file(&lock_path(&resolve(state_path).ok()?))
}

/// Removes a lock left behind by a run that died, but only when `id` is the
/// lock's id, so that a lock taken since the user looked is not broken.
pub fn force_unlock(state_path: &Path, id: &str) -> Result<(), Error> {
    let path = lock_path(&resolve(state_path)?);
    if !path.exists() {
        return Err(Error::NotLocked {
            lock: path.display().to_string(),
        });
    }
    let actual = read_lock_file(&path).map(|info| info.id);
    if actual.as_deref() != Some(id) {
        return Err(Error::LockIdMismatch {
            lock: path.display().to_string(),
            given: id.to_owned(),
            actual,
        });
    }
    fs::remove_file(&path).map_err(Error::io("remove", path))
}
