//! NumPy's basic indexing of one axis, done again in 128-bit arithmetic, where nothing
//! can overflow: what `parse_index` must agree with.
//!
//! - The syntax is the one `parse_index` documents: entries split at `,`, fields at
//!   `:`, each trimmed, numbers as `i64` parses them; an empty number is a default.
//! - The bounds are Python's `slice.indices`, written as Python's C code does.
//! - An axis longer than `i64::MAX` cannot be indexed (its positions do not fit the
//!   numbers an index is written with).

/// One axis as the model sees it: `At(i)`, or `Range(start, step, len)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Axis {
    /// A single position.
    At(i128),
    /// `len` positions from `start`, `step` apart.
    Range(i128, i128, i128),
}

/// The model's reading of `text` for `shape`; `None` for an index NumPy refuses (or
/// that a 64-bit integer cannot write).
pub fn model(text: &str, shape: &[usize]) -> Option<Vec<Axis>> {
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    if parts.len() > shape.len() {
        return None;
    }
    let mut axes = Vec::with_capacity(shape.len());
    for (axis, &extent) in shape.iter().enumerate() {
        let n = extent as i128;
        axes.push(match parts.get(axis) {
            None => Axis::Range(0, 1, n),
            // Positions are i64s: an axis longer than they count cannot be indexed.
            Some(_) if i64::try_from(extent).is_err() => return None,
            Some(part) => one_axis(part, n)?,
        });
    }
    Some(axes)
}

fn one_axis(part: &str, n: i128) -> Option<Axis> {
    let fields: Vec<&str> = part.split(':').collect();
    if fields.len() == 1 {
        let i = number(fields[0])??;
        let at = if i < 0 { i + n } else { i };
        return (0..n).contains(&at).then_some(Axis::At(at));
    }
    if fields.len() > 3 {
        return None;
    }
    let start = number(fields[0])?;
    let stop = number(fields[1])?;
    let step = match fields.get(2) {
        Some(field) => number(field)?.unwrap_or(1),
        None => 1,
    };
    if step == 0 {
        return None;
    }
    let (lower, upper) = if step > 0 { (0, n) } else { (-1, n - 1) };
    let clip = |v: Option<i128>, default: i128| match v {
        None => default,
        Some(v) if v < 0 => (v + n).max(lower),
        Some(v) => v.min(upper),
    };
    let (start, stop) = if step > 0 {
        (clip(start, lower), clip(stop, upper))
    } else {
        (clip(start, upper), clip(stop, lower))
    };
    let len = if step > 0 && stop > start {
        (stop - start - 1) / step + 1
    } else if step < 0 && start > stop {
        (start - stop - 1) / -step + 1
    } else {
        0
    };
    // An empty range's start is no position: the comparison leaves it out.
    Some(Axis::Range(if len == 0 { 0 } else { start }, step, len))
}

/// A field's number: `Some(None)` when empty, `None` when not an `i64`.
fn number(field: &str) -> Option<Option<i128>> {
    let field = field.trim();
    if field.is_empty() {
        return Some(None);
    }
    field.parse::<i64>().ok().map(|v| Some(v.into()))
}
