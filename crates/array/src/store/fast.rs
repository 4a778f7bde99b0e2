//! Decoding the two codec chains zarr-python writes by default (plain little-endian
//! bytes, and bytes + zstd) straight into the chunk's own buffer.
//!
//! zarrs reads a chunk file into one buffer, decodes into a second and copies into the
//! result; for a plain chunk that is two copies where `cat` does one. Here the file is
//! read (or decompressed) directly into the uninitialised `Vec` that becomes the chunk,
//! so a read costs what the kernel's copy out of the page cache costs.

use std::cell::RefCell;
use std::fs::File;
use std::io::{ErrorKind, Read};
use std::mem::{size_of, MaybeUninit};
use std::path::Path;

use zarrs::array::CodecMetadataOptions;
use zarrs::array::{Array, ArrayMetadata};
use zstd::zstd_safe::{self, DCtx, WriteBuf};

/// Which of the two chains an array's chunks are encoded with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fast {
    /// `bytes` (little-endian) alone: the file is the elements.
    Raw,
    /// `bytes` (little-endian) then `zstd`: the file is one or more zstd frames.
    Zstd,
}

/// Why a chunk file could not be decoded.
pub(crate) enum Failure {
    /// The bytes are not what the codecs say (wrong size, bad frame).
    Corrupt(String),
    /// Reading the file failed.
    Io(std::io::Error),
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Failure::Io(e)
    }
}

impl Fast {
    /// The fast decoder for `array`'s chunks, if they use one of the two chains (and
    /// the machine is little-endian, so the bytes are the elements as they are).
    pub(crate) fn of<S: ?Sized>(array: &Array<S>) -> Option<Fast> {
        if cfg!(target_endian = "big") {
            return None;
        }
        if let ArrayMetadata::V3(m) = array.metadata() {
            if !m.storage_transformers.is_empty() {
                return None;
            }
        }
        let codecs = array
            .codecs()
            .create_metadatas(&CodecMetadataOptions::default());
        let (first, rest) = codecs.split_first()?;
        let endian = serde_json::to_value(first.configuration()).unwrap_or_default();
        if first.name() != "bytes" || endian["endian"].as_str().is_some_and(|e| e != "little") {
            return None;
        }
        match rest {
            [] => Some(Fast::Raw),
            [zstd] if zstd.name() == "zstd" => Some(Fast::Zstd),
            _ => None,
        }
    }

    /// The `n` elements stored in `file`, or `None` when there is no such file.
    pub(crate) fn read<T: bytemuck::Pod>(
        self,
        file: &Path,
        n: usize,
    ) -> Result<Option<Vec<T>>, Failure> {
        let mut f = match File::open(file) {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let want = n * size_of::<T>();
        let mut out = Uninit::<T>::new(n);
        match self {
            Fast::Raw => {
                let len = f.metadata()?.len();
                if len != want as u64 {
                    return Err(Failure::Corrupt(format!(
                        "{len} bytes where an uncompressed chunk has {want}"
                    )));
                }
                while out.filled < want {
                    let spare = out.spare();
                    match rustix::io::read(&f, spare) {
                        Ok(([], _)) => {
                            return Err(Failure::Corrupt("the file ended early".to_string()))
                        }
                        Ok((init, _)) => out.filled += init.len(),
                        Err(rustix::io::Errno::INTR) => {}
                        Err(e) => return Err(Failure::Io(e.into())),
                    }
                }
            }
            Fast::Zstd => SCRATCH.with_borrow_mut(|(encoded, dctx)| {
                encoded.clear();
                f.read_to_end(encoded)?;
                dctx.decompress(&mut out, encoded).map_err(|code| {
                    Failure::Corrupt(format!("zstd: {}", zstd_safe::get_error_name(code)))
                })?;
                Ok::<_, Failure>(())
            })?,
        }
        out.finish().map(Some)
    }
}

thread_local! {
    /// Per thread: the last compressed chunk's buffer and a zstd context, reused so a
    /// read allocates only the chunk it returns.
    static SCRATCH: RefCell<(Vec<u8>, DCtx<'static>)> = RefCell::new((Vec::new(), DCtx::create()));
}

/// A `Vec<T>` of `n` elements being filled from the front as bytes.
struct Uninit<T> {
    vec: Vec<T>,
    bytes: usize,
    filled: usize,
}

impl<T: bytemuck::Pod> Uninit<T> {
    fn new(n: usize) -> Self {
        Uninit {
            vec: Vec::with_capacity(n),
            bytes: n * size_of::<T>(),
            filled: 0,
        }
    }

    /// The bytes not yet filled.
    fn spare(&mut self) -> &mut [MaybeUninit<u8>] {
        // SAFETY: the allocation holds `bytes` bytes (capacity `n` elements of `T`), and
        // `MaybeUninit<u8>` may hold any bytes, initialised or not.
        let all = unsafe {
            std::slice::from_raw_parts_mut(
                self.vec.as_mut_ptr().cast::<MaybeUninit<u8>>(),
                self.bytes,
            )
        };
        &mut all[self.filled..]
    }

    /// The elements, if every byte was filled.
    fn finish(mut self) -> Result<Vec<T>, Failure> {
        if self.filled != self.bytes {
            return Err(Failure::Corrupt(format!(
                "decoded to {} bytes where the chunk has {}",
                self.filled, self.bytes
            )));
        }
        // SAFETY: every byte of the `n` elements is initialised, and `T: Pod` is valid
        // for any bytes.
        unsafe { self.vec.set_len(self.bytes / size_of::<T>()) };
        Ok(self.vec)
    }
}

// SAFETY: `as_mut_ptr` and `capacity` describe the allocation's `bytes` bytes;
// `filled_until` records how many zstd initialised, never more than `capacity` (zstd's
// `write_from` checks).
unsafe impl<T: bytemuck::Pod> WriteBuf for Uninit<T> {
    fn as_slice(&self) -> &[u8] {
        // SAFETY: the first `filled` bytes are initialised.
        unsafe { std::slice::from_raw_parts(self.vec.as_ptr().cast::<u8>(), self.filled) }
    }
    fn capacity(&self) -> usize {
        self.bytes
    }
    fn as_mut_ptr(&mut self) -> *mut u8 {
        self.vec.as_mut_ptr().cast()
    }
    unsafe fn filled_until(&mut self, n: usize) {
        self.filled = n;
    }
}
