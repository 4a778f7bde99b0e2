//! Axes as NumPy takes them (`axis=k`):
//! - `0` is the first axis, `ndim - 1` the last;
//! - a negative axis counts from the last: `-1` is the last, `-ndim` the first;
//! - anything else is the caller's error, named with the array's dimensions, never a
//!   panic or a silent wrap-around.
//!
//! The operations of [`Array`](crate::Array) take axes already normalised (`usize`);
//! front ends that accept NumPy's spelling normalise here first.

use crate::error::ArrayError;

/// The axis `axis` names in an array of `ndim` dimensions, as NumPy's
/// `normalize_axis_index` finds it: `-1` is the last.
pub fn normalize_axis_index(axis: i64, ndim: usize) -> Result<usize, ArrayError> {
    let ndim_signed = i64::try_from(ndim).unwrap_or(i64::MAX);
    let k = if axis < 0 {
        axis.saturating_add(ndim_signed)
    } else {
        axis
    };
    match usize::try_from(k) {
        Ok(k) if k < ndim => Ok(k),
        _ => Err(ArrayError::invalid(format!(
            "axis {axis} is out of range for an array of {ndim} dimensions"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_axes_count_from_the_last() {
        assert_eq!(normalize_axis_index(0, 3).unwrap(), 0);
        assert_eq!(normalize_axis_index(2, 3).unwrap(), 2);
        assert_eq!(normalize_axis_index(-1, 3).unwrap(), 2);
        assert_eq!(normalize_axis_index(-3, 3).unwrap(), 0);
    }

    #[test]
    fn axes_out_of_range_are_errors_naming_the_dimensions() {
        for (axis, ndim) in [
            (3, 3),
            (-4, 3),
            (0, 0),
            (-1, 0),
            (i64::MIN, 2),
            (i64::MAX, 2),
        ] {
            let err = normalize_axis_index(axis, ndim).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("axis {axis} is out of range for an array of {ndim} dimensions")
            );
        }
    }
}
