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

fn op_error(e: StoreError) -> OpError {
    OpError::new(e.to_string())
}
