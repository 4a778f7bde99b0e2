//! Index syntax (`array get --index`, `array slice --index`): no panic, every position
//! an index selects lies inside the array, and the selection is NumPy's
//! (`index_model`).
//!
//! Input: a byte of dimensions (its value mod 5), a byte per dimension for its extent
//! (below 0x80 the extent itself, above a pick from `EXTENTS`), then the index text.

#![no_main]

use taskloom_array::{parse_index, AxisIndex};
use taskloom_fuzz::index_model::{model, Axis};

/// Extents worth trying beyond the small ones: a typical one, and those where 32-bit,
/// 63-bit and 64-bit arithmetic ends.
const EXTENTS: [usize; 8] = [
    0,
    1,
    1000,
    1 << 31,
    1 << 62,
    i64::MAX as usize,
    i64::MAX as usize + 1,
    usize::MAX,
];

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&ndim, rest)) = data.split_first() else {
        return;
    };
    let ndim = usize::from(ndim % 5);
    if rest.len() < ndim {
        return;
    }
    let (extents, text) = rest.split_at(ndim);
    let shape: Vec<usize> = extents
        .iter()
        .map(|&b| match b {
            0..0x80 => usize::from(b),
            _ => EXTENTS[usize::from(b & 7)],
        })
        .collect();
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let parsed = parse_index(text, &shape);
    let expected = model(text, &shape);
    let index = match (parsed, expected) {
        (Ok(index), Some(expected)) => {
            let found: Vec<Axis> = index.iter().map(|&a| as_model(a)).collect();
            assert_eq!(found, expected, "{text:?} on {shape:?}");
            index
        }
        (Err(_), None) => return,
        (parsed, expected) => {
            panic!("{text:?} on {shape:?}: parsed {parsed:?}, NumPy says {expected:?}")
        }
    };
    for (axis, (&a, &extent)) in index.iter().zip(&shape).enumerate() {
        let last = match a {
            AxisIndex::At(_) => 0,
            AxisIndex::Range { len: 0, .. } => continue,
            AxisIndex::Range { len, .. } => len - 1,
        };
        for o in [0, last] {
            let at = a.position(o);
            assert!(at < extent, "{text:?} on {shape:?}: axis {axis} reads {at}");
        }
    }
});

/// The parsed axis as the model writes it; an empty range's start is no position, so
/// it is left out of the comparison.
fn as_model(a: AxisIndex) -> Axis {
    match a {
        AxisIndex::At(i) => Axis::At(i as i128),
        AxisIndex::Range { len: 0, step, .. } => Axis::Range(0, step as i128, 0),
        AxisIndex::Range { start, step, len } => {
            Axis::Range(start as i128, step as i128, len as i128)
        }
    }
}
