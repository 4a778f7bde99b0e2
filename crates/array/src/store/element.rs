//! The five element types as both sides see them: plain bytes to decode into, zarrs
//! elements for its codecs, and a `Chunk` variant for the graph.

use std::borrow::Cow;

use ndarray::ArrayD;
use taskloom_graph::Chunk;
use zarrs::array::ElementOwned;

/// An element type a stored array may hold.
pub(crate) trait Elem: ElementOwned + Copy + Send + Sync {
    /// How an element lies in a chunk file: a number as itself, a bool as a byte (not
    /// every byte is a bool, so bools are never read into directly).
    type Stored: bytemuck::Pod;
    /// Wraps elements of this type as a chunk.
    fn wrap(array: ArrayD<Self>) -> Chunk;
    /// Elements as read from a file (a nonzero byte is true).
    fn load(stored: Vec<Self::Stored>) -> Vec<Self>;
    /// Elements as written to a file.
    fn store(elements: &[Self]) -> Cow<'_, [Self::Stored]>;
}

macro_rules! elem {
    ($t:ty, $variant:ident) => {
        impl Elem for $t {
            type Stored = $t;
            fn wrap(array: ArrayD<Self>) -> Chunk {
                Chunk::$variant(array)
            }
            fn load(stored: Vec<Self>) -> Vec<Self> {
                stored
            }
            fn store(elements: &[Self]) -> Cow<'_, [Self]> {
                Cow::Borrowed(elements)
            }
        }
    };
}

elem!(f64, F64);
elem!(f32, F32);
elem!(i64, I64);
elem!(i32, I32);

impl Elem for bool {
    type Stored = u8;
    fn wrap(array: ArrayD<Self>) -> Chunk {
        Chunk::Bool(array)
    }
    fn load(stored: Vec<u8>) -> Vec<Self> {
        stored.into_iter().map(|b| b != 0).collect()
    }
    fn store(elements: &[Self]) -> Cow<'_, [u8]> {
        Cow::Owned(elements.iter().map(|&b| u8::from(b)).collect())
    }
}
