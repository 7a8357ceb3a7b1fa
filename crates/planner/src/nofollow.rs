//! Opening costform's own files (journal, lock, temporary files, the state)
//! without following symbolic links: a link planted at one of those names,
//! dangling or not, would otherwise make costform write tokens to a file
//! outside the repository, or read one it was never meant to.

use std::fs::{File, OpenOptions};
use std::io::Read as _;
use std::path::Path;

use crate::error::Error;

/// Open options that refuse a symbolic link at the final component
/// (`O_NOFOLLOW`: the open fails with `ELOOP`), created 0600 on Unix.
pub(crate) fn options() -> OpenOptions {
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NOFOLLOW).mode(0o600);
    }
    options
}

/// Creates `path`, which must not exist yet, refusing a link.
pub(crate) fn create_new(path: &Path) -> std::io::Result<File> {
    options().write(true).create_new(true).open(path)
}

/// The text of `path`, `None` when there is no such file; a symbolic link
/// is refused.
pub(crate) fn read_unless_missing(path: &Path) -> Result<Option<String>, Error> {
    let mut text = String::new();
    match options()
        .read(true)
        .open(path)
        .and_then(|mut file| file.read_to_string(&mut text))
    {
        Ok(_) => Ok(Some(text)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(Error::io("read", path)(error)),
    }
}
