//! The four element types as both sides see them: plain bytes to decode into, zarrs
//! elements for its codecs, and a `Chunk` variant for the graph.

use ndarray::ArrayD;
use taskloom_graph::Chunk;
use zarrs::array::ElementOwned;

/// An element type a stored array may hold.
pub(crate) trait Elem: bytemuck::Pod + ElementOwned + Send + Sync {
    /// Wraps elements of this type as a chunk.
    fn wrap(array: ArrayD<Self>) -> Chunk;
}

macro_rules! elem {
    ($t:ty, $variant:ident) => {
        impl Elem for $t {
            fn wrap(array: ArrayD<Self>) -> Chunk {
                Chunk::$variant(array)
            }
        }
    };
}

elem!(f64, F64);
elem!(f32, F32);
elem!(i64, I64);
elem!(i32, I32);
