//! Blocks of numbers as values: one chunk of a chunked n-d array.
//!
//! A chunk is a `Value` like any other, so array computations are ordinary task graphs
//! that run on every executor (and travel between processes) unchanged. Four numeric
//! element types cover what Zarr arrays hold in practice and what the array layer
//! computes in; `bool` is what comparisons give and masks are made of.

use std::fmt;

use ndarray::ArrayD;
use serde::ser::{SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};

/// The element type of an array or chunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DType {
    Float64,
    Float32,
    Int64,
    Int32,
    Bool,
}

impl DType {
    /// Every element type, in the order messages list them.
    pub const ALL: [DType; 5] = [
        DType::Float64,
        DType::Float32,
        DType::Int64,
        DType::Int32,
        DType::Bool,
    ];

    /// The element types arithmetic is defined on (every one but `bool`).
    pub const NUMERIC: [DType; 4] = [DType::Float64, DType::Float32, DType::Int64, DType::Int32];

    /// The NumPy-style name (`float64`, ...), as the CLI and Zarr metadata spell it.
    pub fn name(self) -> &'static str {
        match self {
            DType::Float64 => "float64",
            DType::Float32 => "float32",
            DType::Int64 => "int64",
            DType::Int32 => "int32",
            DType::Bool => "bool",
        }
    }

    /// The type named `name`; the error lists the names there are.
    pub fn parse(name: &str) -> Result<DType, String> {
        DType::ALL
            .into_iter()
            .find(|d| d.name() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = DType::ALL.iter().map(|d| d.name()).collect();
                format!(
                    "unknown dtype '{name}' (expected one of {})",
                    names.join(", ")
                )
            })
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            DType::Float64 | DType::Int64 => 8,
            DType::Float32 | DType::Int32 => 4,
            DType::Bool => 1,
        }
    }

    /// Whether elements are floating point.
    pub fn is_float(self) -> bool {
        matches!(self, DType::Float64 | DType::Float32)
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An n-dimensional block of one element type, in C (row-major) order or any other
/// layout ndarray allows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Chunk {
    F64(ArrayD<f64>),
    F32(ArrayD<f32>),
    I64(ArrayD<i64>),
    I32(ArrayD<i32>),
    Bool(ArrayD<bool>),
}

/// Runs `$body` with `$a` bound to the chunk's array, whatever its element type.
#[macro_export]
macro_rules! with_chunk {
    ($chunk:expr, $a:ident => $body:expr) => {
        match $chunk {
            $crate::Chunk::F64($a) => $body,
            $crate::Chunk::F32($a) => $body,
            $crate::Chunk::I64($a) => $body,
            $crate::Chunk::I32($a) => $body,
            $crate::Chunk::Bool($a) => $body,
        }
    };
}

impl Chunk {
    /// The element type.
    pub fn dtype(&self) -> DType {
        match self {
            Chunk::F64(_) => DType::Float64,
            Chunk::F32(_) => DType::Float32,
            Chunk::I64(_) => DType::Int64,
            Chunk::I32(_) => DType::Int32,
            Chunk::Bool(_) => DType::Bool,
        }
    }

    /// The extent along each axis.
    pub fn shape(&self) -> &[usize] {
        with_chunk!(self, a => a.shape())
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        with_chunk!(self, a => a.len())
    }

    /// Whether the chunk has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes the elements occupy: what memory accounting counts.
    pub fn nbytes(&self) -> usize {
        self.len() * self.dtype().size()
    }
}

/// The JSON form of a chunk: nested lists in C order; ints print as integers and
/// floats as floats (`5.0`), bools as `true`/`false`, a 0-d chunk as a bare value.
pub struct ChunkJson<'a>(pub &'a Chunk);

impl Serialize for ChunkJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        with_chunk!(self.0, a => nested(s, a.view()))
    }
}

fn nested<S: Serializer, T: Copy + Serialize>(
    s: S,
    a: ndarray::ArrayViewD<'_, T>,
) -> Result<S::Ok, S::Error> {
    if a.ndim() == 0 {
        return a.first().expect("a 0-d array has one element").serialize(s);
    }
    let mut seq = s.serialize_seq(Some(a.shape()[0]))?;
    for row in a.outer_iter() {
        seq.serialize_element(&Nested(row))?;
    }
    seq.end()
}

struct Nested<'a, T>(ndarray::ArrayViewD<'a, T>);

impl<T: Copy + Serialize> Serialize for Nested<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        nested(s, self.0.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::IxDyn;

    #[test]
    fn json_keeps_ints_and_floats_apart() {
        let ints = Chunk::I64(ArrayD::from_shape_vec(IxDyn(&[2, 2]), vec![1, 2, 3, 4]).unwrap());
        assert_eq!(
            serde_json::to_string(&ChunkJson(&ints)).unwrap(),
            "[[1,2],[3,4]]"
        );
        let floats = Chunk::F64(ArrayD::from_elem(IxDyn(&[3]), 5.0));
        assert_eq!(
            serde_json::to_string(&ChunkJson(&floats)).unwrap(),
            "[5.0,5.0,5.0]"
        );
        let scalar = Chunk::F32(ArrayD::from_elem(IxDyn(&[]), 0.5));
        assert_eq!(serde_json::to_string(&ChunkJson(&scalar)).unwrap(), "0.5");
        let mask = Chunk::Bool(ArrayD::from_shape_vec(IxDyn(&[2]), vec![true, false]).unwrap());
        assert_eq!(
            serde_json::to_string(&ChunkJson(&mask)).unwrap(),
            "[true,false]"
        );
    }

    #[test]
    fn dtype_names_round_trip_and_unknown_names_are_listed() {
        for d in DType::ALL {
            assert_eq!(DType::parse(d.name()), Ok(d));
        }
        let err = DType::parse("complex128").unwrap_err();
        assert!(err.contains("complex128") && err.contains("float64, float32, int64, int32, bool"));
    }
}
