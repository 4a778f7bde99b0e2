//! What a stored array is (its grid, dtype and Zarr format), read from zarrs' parsed
//! metadata, and the metadata files we write: exactly what zarr-python 3 writes by
//! default for each format, so our arrays look like any other to Zarr tools.

use std::path::Path;

use serde_json::{json, Value as Json};
use taskloom_graph::DType;
use zarrs::array::data_type::{
    BoolDataType, Float32DataType, Float64DataType, Int32DataType, Int64DataType,
};
use zarrs::array::{Array, ArrayMetadata};

use super::StoreError;
use crate::kernels::elementwise::promote::Scalar;
use crate::Grid;

/// How chunks are encoded on disk when we write them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Compression {
    /// zstd level 0, zarr-python's default.
    #[default]
    Zstd,
    /// Plain little-endian bytes: for data that does not compress (random numbers),
    /// where decoding would cost time and save no space.
    None,
}

impl Compression {
    /// The compression named `none` or `zstd`.
    pub fn parse(name: &str) -> Result<Compression, String> {
        match name {
            "zstd" => Ok(Compression::Zstd),
            "none" => Ok(Compression::None),
            other => Err(format!(
                "unknown compression '{other}' (expected zstd or none)"
            )),
        }
    }
}

/// The shape, chunking, element type and format of a Zarr array: everything a graph
/// needs to plan reads and writes without touching chunk data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArrayMeta {
    /// Shape and chunk shape (the Zarr chunk grid, which must be regular).
    pub grid: Grid,
    /// Element type.
    pub dtype: DType,
    /// Zarr format, 2 or 3.
    pub zarr_format: u8,
}

impl ArrayMeta {
    /// The metadata of an array zarrs opened at `path`, or why we cannot hold it.
    pub(crate) fn of<S: ?Sized>(path: &Path, array: &Array<S>) -> Result<ArrayMeta, StoreError> {
        let unsupported = |what: String| StoreError::Unsupported {
            path: path.to_path_buf(),
            what,
        };
        let (zarr_format, chunks, dtype_name) = match array.metadata() {
            ArrayMetadata::V3(m) => {
                if m.chunk_grid.name() != "regular" {
                    return Err(unsupported(format!(
                        "chunk grid '{}' (only regular grids are supported)",
                        m.chunk_grid.name()
                    )));
                }
                let config =
                    serde_json::to_value(m.chunk_grid.configuration()).unwrap_or(Json::Null);
                let chunks = config["chunk_shape"]
                    .as_array()
                    .and_then(|dims| dims.iter().map(|d| d.as_u64()).collect::<Option<Vec<_>>>())
                    .ok_or_else(|| StoreError::NotAnArray {
                        path: path.to_path_buf(),
                        reason: "the regular chunk grid has no chunk_shape".to_string(),
                    })?;
                (3, chunks, m.data_type.name().to_string())
            }
            ArrayMetadata::V2(m) => {
                let chunks = m.chunks.iter().map(|c| c.get()).collect();
                let name = serde_json::to_string(&m.dtype).unwrap_or_default();
                (2, chunks, name.trim_matches('"').to_string())
            }
        };
        let data_type = array.data_type();
        let dtype = if data_type.is::<Float64DataType>() {
            DType::Float64
        } else if data_type.is::<Float32DataType>() {
            DType::Float32
        } else if data_type.is::<Int64DataType>() {
            DType::Int64
        } else if data_type.is::<Int32DataType>() {
            DType::Int32
        } else if data_type.is::<BoolDataType>() {
            DType::Bool
        } else {
            let names: Vec<&str> = DType::ALL.iter().map(|d| d.name()).collect();
            return Err(unsupported(format!(
                "dtype '{dtype_name}' (expected one of {})",
                names.join(", ")
            )));
        };
        let to_usize = |dims: &[u64]| -> Result<Vec<usize>, StoreError> {
            dims.iter()
                .map(|&d| usize::try_from(d))
                .collect::<Result<_, _>>()
                .map_err(|_| unsupported("shape (too large for this machine)".to_string()))
        };
        let grid = Grid::new(&to_usize(array.shape())?, &to_usize(&chunks)?).map_err(|reason| {
            StoreError::NotAnArray {
                path: path.to_path_buf(),
                reason,
            }
        })?;
        Ok(ArrayMeta {
            grid,
            dtype,
            zarr_format,
        })
    }

    /// The metadata files (name, JSON text) zarr-python 3 writes for this array: by
    /// default format 3 is `bytes` (little-endian) + `zstd` level 0 and format 2 the
    /// `zstd` level 0 compressor with no filters; uncompressed drops the zstd. The fill
    /// value is `fill` as an element of the dtype.
    pub(crate) fn files(
        &self,
        compression: Compression,
        fill: Scalar,
    ) -> Vec<(&'static str, String)> {
        let zstd = compression == Compression::Zstd;
        let fill = match self.dtype {
            DType::Float64 => json!(fill.element::<f64>()),
            DType::Float32 => json!(f64::from(fill.element::<f32>())),
            DType::Int64 => json!(fill.element::<i64>()),
            DType::Int32 => json!(fill.element::<i32>()),
            DType::Bool => json!(fill.element::<bool>()),
        };
        let shape = self.grid.shape();
        let chunks = self.grid.chunks();
        let pretty = |v: &Json| serde_json::to_string_pretty(v).expect("JSON values serialize");
        if self.zarr_format == 2 {
            let zarray = json!({
                "shape": shape,
                "chunks": chunks,
                "dtype": v2_dtype(self.dtype),
                "fill_value": fill,
                "order": "C",
                "filters": null,
                "dimension_separator": ".",
                "compressor": if zstd { json!({"id": "zstd", "level": 0}) } else { Json::Null },
                "zarr_format": 2,
            });
            vec![
                (".zarray", pretty(&zarray)),
                (".zattrs", pretty(&json!({}))),
            ]
        } else {
            // A byte has no endianness: zarr-python writes `bytes` bare for bool.
            let bytes = if self.dtype.size() == 1 {
                json!({"name": "bytes"})
            } else {
                json!({"name": "bytes", "configuration": {"endian": "little"}})
            };
            let mut codecs = vec![bytes];
            if zstd {
                codecs.push(
                    json!({"name": "zstd", "configuration": {"level": 0, "checksum": false}}),
                );
            }
            let zarr_json = json!({
                "shape": shape,
                "data_type": self.dtype.name(),
                "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": chunks}},
                "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
                "fill_value": fill,
                "codecs": codecs,
                "attributes": {},
                "zarr_format": 3,
                "node_type": "array",
                "storage_transformers": [],
            });
            vec![("zarr.json", pretty(&zarr_json))]
        }
    }
}

/// The NumPy type string format 2 uses (little-endian, as zarr-python writes).
fn v2_dtype(dtype: DType) -> &'static str {
    match dtype {
        DType::Float64 => "<f8",
        DType::Float32 => "<f4",
        DType::Int64 => "<i8",
        DType::Int32 => "<i4",
        DType::Bool => "|b1",
    }
}
