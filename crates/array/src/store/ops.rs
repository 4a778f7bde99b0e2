//! The store as graph ops. They take paths, not open arrays, so the same graph runs
//! on threads or in worker processes: each process opens an array once (`cache`).

use std::path::Path;

use taskloom_graph::{OpError, Registry, Value};

use super::write::PENDING_SUFFIX;
use super::{cache, StoreError};
use crate::kernels::args;

pub(super) fn register(registry: &mut Registry) {
    // array.read(path, index) -> the chunk at block `index`.
    registry.register("array.read", |a| {
        args::arity(a, 2)?;
        let path = Path::new(args::string(a, 0)?);
        let index = args::dims(a, 1)?;
        let chunk = cache::get(path)
            .and_then(|array| array.read_chunk(&index))
            .map_err(op_error)?;
        Ok(args::value(chunk))
    });
    // array.read_partial(path, index, op, axis) -> array.partial(op, array.read(path,
    // index), axis), computed a slab of rows at a time where the chunk is stored
    // uncompressed, so the chunk never sits in memory whole. Slabs are whole rows, so
    // the axis must be null or 0 (where slab states combine).
    registry.register("array.read_partial", |a| {
        args::arity(a, 4)?;
        let path = Path::new(args::string(a, 0)?);
        let index = args::dims(a, 1)?;
        let (op, axis) = (a[2].clone(), a[3].clone());
        if !matches!(axis, Value::Null | Value::Int(0)) {
            return Err(OpError::new(
                "argument 4 must be null or 0 (slabs are whole rows)",
            ));
        }
        let array = cache::get(path).map_err(op_error)?;
        let registry = crate::ops::registry();
        let kernel = |name: &str| registry.get(name).expect("array kernels are registered");
        let (partial, combine) = (kernel("array.partial"), kernel("array.combine"));
        let mut states = vec![op.clone()];
        let streamed = array.for_each_slab(&index, SLAB_BYTES, &mut |slab| {
            states.push(partial(&[op.clone(), args::value(slab), axis.clone()])?);
            if states.len() > MERGE_EVERY {
                let merged = combine(&states)?;
                states.truncate(1);
                states.push(merged);
            }
            Ok::<_, OpError>(())
        })?;
        if !streamed {
            let chunk = array.read_chunk(&index).map_err(op_error)?;
            return partial(&[op, args::value(chunk), axis]);
        }
        combine(&states)
    });
    // array.write(temp_path, index, chunk) -> bytes written (the chunk's size in memory).
    registry.register("array.write", |a| {
        args::arity(a, 3)?;
        let path = args::string(a, 0)?;
        let index = args::dims(a, 1)?;
        let chunk = args::chunk(a, 2)?;
        if !path.ends_with(PENDING_SUFFIX) {
            return Err(OpError::new(format!(
                "{path} is not an array being created (array.write writes only to the \
                 temporary directory of a pending array)"
            )));
        }
        cache::get(Path::new(path))
            .and_then(|array| array.write_chunk(&index, chunk))
            .map_err(op_error)?;
        Ok(Value::Int(chunk.nbytes() as i64))
    });
}

/// Rows read per slab: well inside a core's L2 cache.
const SLAB_BYTES: usize = 512 << 10;

/// Slab states merged into one once there are this many.
const MERGE_EVERY: usize = 64;

impl From<StoreError> for OpError {
    fn from(e: StoreError) -> Self {
        op_error(e)
    }
}

fn op_error(e: StoreError) -> OpError {
    OpError::new(e.to_string())
}
