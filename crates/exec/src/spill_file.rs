//! A result in a scratch file: how one value is written out past a memory limit and
//! read back, by the threads executor's spill and by worker processes alike.
//!
//! - A chunk raw: a tag, its dtype, rank and shape, then its elements in C order,
//!   native-endian (the file is read back by the process that wrote it, or one on the
//!   same machine from the same binary).
//! - Any other value as postcard, which the worker protocol uses.
//! - Not synced: a file need not outlive its run, and the page cache is the kernel's
//!   to reclaim.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::Path;
use std::sync::Arc;

use bytemuck::Pod;
use ndarray::{ArrayD, IxDyn};
use taskloom_graph::{Chunk, Value};

use crate::owned::{fresh_name, remove_stale, OwnedDir};

/// How scratch directories are named: `taskloom-spill-{pid}-{random}`.
const PREFIX: &str = "taskloom-spill-";

/// The first byte of a file holding a chunk, raw.
const RAW_CHUNK: u8 = 0;
/// The first byte of a file holding any other value, as postcard.
const POSTCARD: u8 = 1;

/// Makes a scratch directory for one run's (or one worker's) results, for this user
/// only, under `parent` or the system's temporary directory, having removed those
/// that killed runs left there (`owned`); removed when dropped.
pub(crate) fn scratch_dir(parent: Option<&Path>) -> io::Result<OwnedDir> {
    let parent = parent.map_or_else(std::env::temp_dir, Path::to_path_buf);
    remove_stale(&parent, PREFIX, "");
    OwnedDir::create(&parent.join(fresh_name(PREFIX, "")), 0o700)
}

/// Writes `value` to a new file at `path`.
pub(crate) fn write_value(path: &Path, value: &Value) -> io::Result<()> {
    let mut out = BufWriter::new(File::create_new(path)?);
    match value {
        Value::Chunk(chunk) => {
            out.write_all(&[RAW_CHUNK, dtype_tag(chunk)])?;
            let shape = chunk.shape();
            out.write_all(&(shape.len() as u64).to_ne_bytes())?;
            for &n in shape {
                out.write_all(&(n as u64).to_ne_bytes())?;
            }
            match &**chunk {
                Chunk::F64(a) => write_elements(&mut out, a)?,
                Chunk::F32(a) => write_elements(&mut out, a)?,
                Chunk::I64(a) => write_elements(&mut out, a)?,
                Chunk::I32(a) => write_elements(&mut out, a)?,
                Chunk::Bool(a) => write_elements(&mut out, &a.mapv(u8::from))?,
            }
        }
        other => {
            out.write_all(&[POSTCARD])?;
            postcard::to_io(other, &mut out).map_err(io::Error::other)?;
        }
    }
    out.flush()
}

fn dtype_tag(chunk: &Chunk) -> u8 {
    match chunk {
        Chunk::F64(_) => 0,
        Chunk::F32(_) => 1,
        Chunk::I64(_) => 2,
        Chunk::I32(_) => 3,
        Chunk::Bool(_) => 4,
    }
}

/// The elements of `a` in C order, as they lie in memory when it is in C order.
fn write_elements<T: Pod>(out: &mut impl Write, a: &ArrayD<T>) -> io::Result<()> {
    match a.as_slice() {
        Some(elements) => out.write_all(bytemuck::cast_slice(elements)),
        None => {
            let standard = a.as_standard_layout();
            let elements = standard
                .as_slice()
                .expect("a standard layout is contiguous");
            out.write_all(bytemuck::cast_slice(elements))
        }
    }
}

/// Reads back what `write_value` wrote at `path`.
pub(crate) fn read_value(path: &Path) -> io::Result<Value> {
    let mut input = BufReader::new(File::open(path)?);
    let mut tag = [0u8; 2];
    input.read_exact(&mut tag[..1])?;
    if tag[0] == POSTCARD {
        let mut bytes = Vec::new();
        input.read_to_end(&mut bytes)?;
        return postcard::from_bytes(&bytes).map_err(io::Error::other);
    }
    input.read_exact(&mut tag[1..])?;
    let rank = read_u64(&mut input)? as usize;
    let shape = (0..rank)
        .map(|_| read_u64(&mut input).map(|n| n as usize))
        .collect::<io::Result<Vec<_>>>()?;
    let chunk = match tag[1] {
        0 => Chunk::F64(read_elements(&mut input, &shape)?),
        1 => Chunk::F32(read_elements(&mut input, &shape)?),
        2 => Chunk::I64(read_elements(&mut input, &shape)?),
        3 => Chunk::I32(read_elements(&mut input, &shape)?),
        4 => Chunk::Bool(read_elements::<u8>(&mut input, &shape)?.mapv(|b| b != 0)),
        other => return Err(io::Error::other(format!("unknown dtype tag {other}"))),
    };
    Ok(Value::Chunk(Arc::new(chunk)))
}

fn read_u64(input: &mut impl Read) -> io::Result<u64> {
    let mut bytes = [0u8; 8];
    input.read_exact(&mut bytes)?;
    Ok(u64::from_ne_bytes(bytes))
}

fn read_elements<T: Pod>(input: &mut impl Read, shape: &[usize]) -> io::Result<ArrayD<T>> {
    // Not `vec![zeroed; n]`: a zeroed allocation this large takes fresh pages from the
    // system rather than reusing what the last task freed, which the allocator keeps
    // a moment (`taskloom::allocator`): under a stream of read-backs that is the peak.
    let len = shape.iter().product();
    let mut elements = Vec::with_capacity(len);
    elements.resize(len, T::zeroed());
    input.read_exact(bytemuck::cast_slice_mut(&mut elements))?;
    ArrayD::from_shape_vec(IxDyn(shape), elements).map_err(io::Error::other)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(value: Value) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v");
        write_value(&path, &value).unwrap();
        assert_eq!(read_value(&path).unwrap(), value);
    }

    #[test]
    fn chunks_of_every_dtype_and_layout_come_back_as_written() {
        let a = ArrayD::from_shape_fn(IxDyn(&[3, 4]), |i| (i[0] * 4 + i[1]) as f64 - 2.5);
        round_trip(Value::Chunk(Arc::new(Chunk::F64(a.clone()))));
        // Transposed: not in C order in memory.
        round_trip(Value::Chunk(Arc::new(Chunk::F64(
            a.clone().reversed_axes(),
        ))));
        round_trip(Value::Chunk(Arc::new(Chunk::F32(a.mapv(|x| x as f32)))));
        round_trip(Value::Chunk(Arc::new(Chunk::I64(a.mapv(|x| x as i64)))));
        round_trip(Value::Chunk(Arc::new(Chunk::I32(a.mapv(|x| x as i32)))));
        round_trip(Value::Chunk(Arc::new(Chunk::Bool(a.mapv(|x| x > 0.0)))));
        let empty = ArrayD::<f64>::zeros(IxDyn(&[0, 5]));
        round_trip(Value::Chunk(Arc::new(Chunk::F64(empty))));
        let scalar = ArrayD::from_elem(IxDyn(&[]), 7i64);
        round_trip(Value::Chunk(Arc::new(Chunk::I64(scalar))));
    }

    #[test]
    fn other_values_come_back_as_written() {
        round_trip(Value::Bytes(Arc::from(vec![0u8, 1, 255])));
        round_trip(Value::list([Value::str("x"), Value::Int(-3), Value::Null]));
        round_trip(Value::str("a string"));
    }
}
