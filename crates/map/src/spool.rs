//! Output waiting for its turn, held within a memory bound: in input order one slow
//! item holds back the output of every item after it, which could be anything up to
//! the whole run's output.
//!
//! - Up to [`MEMORY`] bytes of waiting output stay in memory; a block that would go
//!   beyond goes to the spool file, and comes back when its turn comes.
//! - The spool file has no name (`tempfile::tempfile`: `O_TMPFILE` on Linux, unlinked
//!   at once elsewhere), in `$TMPDIR`: it disappears on every exit path, SIGKILL
//!   included, and never meets another run's.
//! - Its space is given back whenever no spooled block is left (it is truncated), as
//!   happens each time the slow item that held everything back ends.
//! - A spool that cannot be written (no space for temporary files) keeps the block in
//!   memory: the bound is a preference, losing output is not an option.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

/// How much waiting output stays in memory: enough that runs with ordinary output never
/// touch the disk, small enough that a run stays within tens of MB however much waits
/// (GNU parallel, which spools everything, stays under 20 MB on 200 MB held back).
pub const MEMORY: usize = 16 << 20;

/// Where waiting output is held; see the module header.
#[derive(Debug, Default)]
pub struct Spool {
    file: Option<File>,
    /// Bytes held in memory.
    in_memory: usize,
    /// Blocks in the file not released yet.
    spooled: usize,
    /// Where the next block goes in the file.
    end: u64,
}

/// One block of output, held or passing through.
#[derive(Debug)]
pub enum Held {
    /// Due at once (unordered mode, or the next in order): never held, not counted.
    Due(Vec<u8>),
    /// In memory.
    Memory(Vec<u8>),
    /// In the spool file, at `offset`.
    File {
        /// Where it starts.
        offset: u64,
        /// How long it is.
        len: usize,
    },
}

impl Spool {
    /// Holds `bytes` until [`release`](Spool::release).
    pub fn hold(&mut self, bytes: Vec<u8>) -> Held {
        if self.in_memory + bytes.len() > MEMORY {
            if let Ok(offset) = self.write(&bytes) {
                self.spooled += 1;
                return Held::File {
                    offset,
                    len: bytes.len(),
                };
            }
        }
        self.in_memory += bytes.len();
        Held::Memory(bytes)
    }

    /// The bytes `held` holds, given back.
    pub fn release(&mut self, held: Held) -> io::Result<Vec<u8>> {
        match held {
            Held::Due(bytes) => Ok(bytes),
            Held::Memory(bytes) => {
                self.in_memory -= bytes.len();
                Ok(bytes)
            }
            Held::File { offset, len } => {
                let mut bytes = vec![0; len];
                let file = self.file.as_ref().expect("a spooled block has a file");
                let read = file.read_exact_at(&mut bytes, offset);
                self.spooled -= 1;
                if self.spooled == 0 {
                    self.end = 0;
                    // Only space is at stake: a file that keeps its length is still
                    // written from its start again.
                    let _ = file.set_len(0);
                }
                read.map(|()| bytes)
            }
        }
    }

    /// Appends `bytes` to the spool file; returns where they start.
    fn write(&mut self, bytes: &[u8]) -> io::Result<u64> {
        let file = match &mut self.file {
            Some(file) => file,
            None => self.file.insert(tempfile::tempfile()?),
        };
        file.write_all_at(bytes, self.end)?;
        let offset = self.end;
        self.end += bytes.len() as u64;
        Ok(offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beyond_the_bound_blocks_go_to_the_file_and_come_back_whole() {
        let mut spool = Spool::default();
        let big = vec![7u8; MEMORY - 10];
        let first = spool.hold(big.clone());
        assert!(matches!(first, Held::Memory(_)));
        assert!(spool.file.is_none());
        let second = spool.hold(b"0123456789abc".to_vec());
        let third = spool.hold(b"more output".to_vec());
        assert!(matches!(second, Held::File { offset: 0, len: 13 }));
        assert!(matches!(
            third,
            Held::File {
                offset: 13,
                len: 11
            }
        ));
        assert_eq!(spool.release(first).unwrap(), big);
        assert_eq!(spool.release(second).unwrap(), b"0123456789abc");
        assert_eq!(spool.release(third).unwrap(), b"more output");
        // Empty again: the file starts over, and memory is free again.
        let file = spool.file.as_ref().unwrap();
        assert_eq!(file.metadata().unwrap().len(), 0);
        assert!(matches!(spool.hold(vec![1; MEMORY]), Held::Memory(_)));
    }
}
