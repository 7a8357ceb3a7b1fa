//! Writing a file so that readers see the old bytes or the new ones, never a
//! half-written file: a temporary file in the same directory, synced, renamed
//! over the target, then the directory synced so the rename survives a crash.

use std::fs::File;
use std::io::Write as _;
use std::path::Path;

use crate::error::Error;
use crate::nofollow;

/// Replaces `target` with `bytes`. `before_rename` runs once the new bytes are
/// safely on disk and before they replace the old ones (the state store keeps
/// its backup there). The file is created 0600 on Unix, never through a
/// symbolic link: state and results are not meant for other users of the
/// machine.
pub(crate) fn write_atomically(
    target: &Path,
    bytes: &[u8],
    before_rename: impl FnOnce() -> Result<(), Error>,
) -> Result<(), Error> {
    replace(target, bytes, before_rename)?;
    sync_dir(parent_dir(target))
}

/// [`write_atomically`] without the final directory sync, for callers that
/// write many files into one directory and sync it once ([`sync_dir`]):
/// fetch, where a sync per result file serialized the whole run on the disk.
pub(crate) fn replace(
    target: &Path,
    bytes: &[u8],
    before_rename: impl FnOnce() -> Result<(), Error>,
) -> Result<(), Error> {
    replace_with(target, |file| file.write_all(bytes), before_rename)
}

/// [`replace`] with the new bytes written by `write` into the temporary
/// file, for a result streamed from its spool rather than held in memory.
pub(crate) fn replace_with(
    target: &Path,
    write: impl FnOnce(&mut File) -> std::io::Result<()>,
    before_rename: impl FnOnce() -> Result<(), Error>,
) -> Result<(), Error> {
    replace_syncing(target, write, before_rename, true)
}

/// [`replace_with`] whose new bytes are synced later, by [`sync_written`]
/// (fetch's group commit) on Linux; without that sync a crash may leave the
/// new name holding an empty file.
pub(crate) fn replace_unsynced(
    target: &Path,
    write: impl FnOnce(&mut File) -> std::io::Result<()>,
) -> Result<(), Error> {
    replace_syncing(target, write, || Ok(()), !cfg!(target_os = "linux"))
}

fn replace_syncing(
    target: &Path,
    write: impl FnOnce(&mut File) -> std::io::Result<()>,
    before_rename: impl FnOnce() -> Result<(), Error>,
    sync: bool,
) -> Result<(), Error> {
    let dir = parent_dir(target);
    let prefix = format!(
        ".{}.",
        target
            .file_name()
            .map(|name| name.to_string_lossy())
            .unwrap_or_default()
    );
    let mut temp = tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(".tmp")
        .make_in(dir, nofollow::create_new)
        .map_err(Error::io("create a temporary file in", dir))?;
    write(temp.as_file_mut())
        .and_then(|()| {
            if sync {
                temp.as_file().sync_all()
            } else {
                Ok(())
            }
        })
        .map_err(Error::io("write", temp.path().to_owned()))?;
    before_rename()?;
    temp.persist(target)
        .map(drop)
        .map_err(|error| Error::io("replace", target)(error.error))
}

/// The directory holding `path` (`.` for a bare file name).
pub(crate) fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// Syncs a directory so a rename in it is durable. Directories cannot be
/// opened as files on Windows, where the rename itself is what we get.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), Error> {
    if cfg!(unix) {
        File::open(dir)
            .and_then(|handle| handle.sync_all())
            .map_err(Error::io("sync", dir))?;
    }
    Ok(())
}

/// Makes everything written under `dirs` durable: on Linux one `syncfs` of
/// their file system (data, renames and directories, however many files);
/// elsewhere each directory, the files having been synced as written
/// ([`replace_unsynced`] syncs them there).
pub(crate) fn sync_written(dirs: &[&Path]) -> Result<(), Error> {
    #[cfg(target_os = "linux")]
    if let Some(dir) = dirs.first() {
        return File::open(dir)
            .and_then(|handle| rustix::fs::syncfs(&handle).map_err(std::io::Error::from))
            .map_err(Error::io("sync", dir));
    }
    dirs.iter().try_for_each(|dir| sync_dir(dir))
}

/// Replaces `target` with `bytes` atomically, for files other than the state
/// (saved plans, fetched results): readers see the old file or the new one, never half of it.
pub fn write_file_atomically(target: &Path, bytes: &[u8]) -> Result<(), Error> {
    write_atomically(target, bytes, || Ok(()))
}
