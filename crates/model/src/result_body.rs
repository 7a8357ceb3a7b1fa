//! The bytes of a ready result on their way from Atlas to `results/`: kept in
//! memory while small and spilled to an unnamed temporary file past
//! [`IN_MEMORY_BYTES`], so that a result of any size costs a bounded amount
//! of memory. Results reach hundreds of megabytes; holding them (and the
//! trees parsed from them) in memory once took eleven times their size.

use std::io::{self, Read, Seek, SeekFrom, Write};

use tempfile::SpooledTempFile;

/// How much of a result stays in memory before it moves to a temporary file.
pub const IN_MEMORY_BYTES: usize = 1 << 20;

/// The default cap on one result's size (`fetch --max-result-size`): far
/// above any real Cost Explorer or FOCUS answer, far below what fills a
/// runner's disk.
pub const DEFAULT_MAX_RESULT_BYTES: u64 = 1 << 30;

/// A result's bytes, written once, then read from the start.
#[derive(Debug)]
pub struct ResultBody {
    spool: SpooledTempFile,
    len: u64,
}

impl Default for ResultBody {
    fn default() -> Self {
        Self::new()
    }
}

impl ResultBody {
    /// An empty body, ready to be written.
    pub fn new() -> Self {
        Self {
            spool: SpooledTempFile::new(IN_MEMORY_BYTES),
            len: 0,
        }
    }

    /// A body holding `bytes` (small answers, tests).
    pub fn from_bytes(bytes: &[u8]) -> Self {
        let mut body = Self::new();
        // Writing to a spool fails only when its temporary file cannot be
        // created, which a body this size (tests, small answers) never needs.
        body.write_all(bytes).unwrap_or_default();
        body
    }

    /// The number of bytes written.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bytes from the start, for one reading pass.
    pub fn reader(&mut self) -> io::Result<&mut dyn Read> {
        self.spool.seek(SeekFrom::Start(0))?;
        Ok(&mut self.spool)
    }

    /// The first `limit` bytes, for messages and small answers.
    pub fn head(&mut self, limit: usize) -> io::Result<Vec<u8>> {
        let mut head = Vec::with_capacity(limit.min(IN_MEMORY_BYTES));
        self.reader()?
            .take(u64::try_from(limit).unwrap_or(u64::MAX))
            .read_to_end(&mut head)?;
        Ok(head)
    }
}

impl Write for ResultBody {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let written = self.spool.write(bytes)?;
        self.len += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.spool.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_body_moves_to_a_file_and_reads_back_whole() {
        let chunk = vec![b'x'; 64 * 1024];
        let mut body = ResultBody::new();
        for _ in 0..40 {
            body.write_all(&chunk).unwrap();
        }
        assert!(body.spool.is_rolled(), "2.5 MiB stays in memory");
        assert_eq!(body.len(), 40 * 64 * 1024);
        let mut read = Vec::new();
        body.reader().unwrap().read_to_end(&mut read).unwrap();
        assert_eq!(read.len(), 40 * 64 * 1024);
        // A second pass starts from the beginning again.
        assert_eq!(body.head(3).unwrap(), b"xxx");
    }

    #[test]
    fn a_small_body_stays_in_memory() {
        let mut body = ResultBody::from_bytes(b"{\"usageDetails\": []}");
        assert!(!body.spool.is_rolled());
        assert_eq!(body.head(1024).unwrap(), b"{\"usageDetails\": []}");
    }
}
