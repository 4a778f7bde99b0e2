//! NumPy's basic indexing, one entry per axis: `I`, `start:stop`, `start:stop:step`, `:`.

use crate::error::ArrayError;

/// What one axis keeps: a single position (the axis goes away) or a strided range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AxisIndex {
    /// One position; the axis is removed from the result.
    At(usize),
    /// `len` positions `start, start + step, ...`; a negative step walks backwards.
    Range {
        start: usize,
        step: isize,
        len: usize,
    },
}

impl AxisIndex {
    /// The whole of an axis of `extent`.
    pub fn all(extent: usize) -> AxisIndex {
        AxisIndex::Range {
            start: 0,
            step: 1,
            len: extent,
        }
    }

    /// The input position of output position `o` along this axis.
    pub fn position(self, o: usize) -> usize {
        match self {
            AxisIndex::At(i) => i,
            AxisIndex::Range { start, step, .. } => (start as isize + o as isize * step) as usize,
        }
    }
}

/// Parses `text` (e.g. `10:20,5` or `-1`, `::2`) against `shape`: negative values count
/// from the end, slice bounds clip as in NumPy, single positions must be in range, and
/// axes not mentioned are kept whole.
pub fn parse_index(text: &str, shape: &[usize]) -> Result<Vec<AxisIndex>, ArrayError> {
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    if parts.len() > shape.len() {
        return Err(ArrayError::invalid(format!(
            "index '{text}' has {} entries but the array has {} dimensions",
            parts.len(),
            shape.len()
        )));
    }
    let mut index: Vec<AxisIndex> = parts
        .iter()
        .zip(shape)
        .enumerate()
        .map(|(axis, (part, &extent))| parse_axis(part, axis, extent))
        .collect::<Result<_, _>>()?;
    index.extend(shape[parts.len()..].iter().map(|&n| AxisIndex::all(n)));
    Ok(index)
}

fn parse_axis(part: &str, axis: usize, extent: usize) -> Result<AxisIndex, ArrayError> {
    let bad = |why: &str| {
        ArrayError::invalid(format!(
            "index '{part}' for axis {axis} (extent {extent}): {why}"
        ))
    };
    let number = |s: &str| -> Result<Option<i64>, ArrayError> {
        let s = s.trim();
        if s.is_empty() {
            return Ok(None);
        }
        s.parse::<i64>()
            .map(Some)
            .map_err(|_| bad("not an integer"))
    };
    let n = i64::try_from(extent).map_err(|_| bad("the axis is too long to index"))?;
    if !part.contains(':') {
        let i = number(part)?.ok_or_else(|| bad("empty"))?;
        let at = if i < 0 { i + n } else { i };
        if at < 0 || at >= n {
            return Err(bad("index out of range"));
        }
        return Ok(AxisIndex::At(at as usize));
    }
    let fields: Vec<&str> = part.split(':').collect();
    if fields.len() > 3 {
        return Err(bad("too many ':'"));
    }
    let step = match fields.get(2) {
        Some(s) => number(s)?.unwrap_or(1),
        None => 1,
    };
    if step == 0 {
        return Err(bad("the step must not be zero"));
    }
    // Python's slice.indices: bounds clip to [lower, upper], defaults depend on the
    // direction.
    let (lower, upper) = if step > 0 { (0, n) } else { (-1, n - 1) };
    let bound = |v: Option<i64>, default: i64| -> i64 {
        match v {
            None => default,
            Some(v) if v < 0 => (v + n).max(lower),
            Some(v) => v.min(upper),
        }
    };
    let (start_default, stop_default) = if step > 0 {
        (lower, upper)
    } else {
        (upper, lower)
    };
    let start = bound(number(fields[0])?, start_default);
    let stop = bound(number(fields[1])?, stop_default);
    // Counted without adding the step, which may be as large as an i64 goes.
    let len = if step > 0 && stop > start {
        (stop - start - 1) / step + 1
    } else if step < 0 && start > stop {
        (stop - start + 1) / step + 1
    } else {
        0
    };
    Ok(AxisIndex::Range {
        // An empty range's start may be -1; nothing is ever read from it.
        start: start.max(0) as usize,
        step: step as isize,
        len: len as usize,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(start: usize, step: isize, len: usize) -> AxisIndex {
        AxisIndex::Range { start, step, len }
    }

    #[test]
    fn numpy_basic_indexing() {
        let shape = [100, 50];
        assert_eq!(
            parse_index("10:20,5", &shape).unwrap(),
            vec![range(10, 1, 10), AxisIndex::At(5)]
        );
        assert_eq!(
            parse_index("-1", &shape).unwrap(),
            vec![AxisIndex::At(99), range(0, 1, 50)]
        );
        assert_eq!(
            parse_index("::3,-10:", &shape).unwrap(),
            vec![range(0, 3, 34), range(40, 1, 10)]
        );
        assert_eq!(
            parse_index("90:200,:", &shape).unwrap(),
            vec![range(90, 1, 10), range(0, 1, 50)]
        );
        assert_eq!(parse_index("20:10", &shape).unwrap()[0], range(20, 1, 0));
        assert_eq!(parse_index("::-1", &shape).unwrap()[0], range(99, -1, 100));
        assert_eq!(parse_index("7:1:-2", &shape).unwrap()[0], range(7, -2, 3));
        assert_eq!(
            parse_index("-3::-40", &shape).unwrap()[0],
            range(97, -40, 3)
        );
        assert_eq!(
            parse_index(":-200:-1", &shape).unwrap()[0],
            range(99, -1, 100)
        );
        assert_eq!(parse_index("1:7:-1", &shape).unwrap()[0].position(0), 1);
    }

    #[test]
    fn bad_indices_name_the_axis() {
        let shape = [10, 5];
        let err = parse_index("3,5", &shape).unwrap_err().to_string();
        assert!(
            err.contains("axis 1") && err.contains("out of range"),
            "{err}"
        );
        let err = parse_index("1,2,3", &shape).unwrap_err().to_string();
        assert!(
            err.contains("3 entries") && err.contains("2 dimensions"),
            "{err}"
        );
        assert!(parse_index("a:b", &shape).is_err());
        assert!(parse_index("::0", &shape).is_err());
    }

    #[test]
    fn steps_and_extents_at_the_ends_of_64_bits() {
        let shape = [100];
        let max = i64::MAX;
        let min = i64::MIN;
        assert_eq!(
            parse_index(&format!("0:10:{max}"), &shape).unwrap()[0],
            range(0, max as isize, 1)
        );
        assert_eq!(
            parse_index(&format!("::{min}"), &shape).unwrap()[0],
            range(99, min as isize, 1)
        );
        assert_eq!(
            parse_index(&format!("{min}:{max}:-1"), &shape).unwrap()[0],
            range(0, -1, 0)
        );
        let err = parse_index("0", &[usize::MAX]).unwrap_err().to_string();
        assert!(err.contains("too long"), "{err}");
    }
}
