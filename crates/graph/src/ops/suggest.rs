//! "Did you mean": the registered op nearest in spelling to an unknown one.
//!
//! - Nearness is the edit distance: insertions, deletions, substitutions and swaps of
//!   two neighbours (`mena` is one edit from `mean`), computed by the textbook dynamic
//!   program over three rows (the optimal string alignment distance). Op names are
//!   short and there are a few dozen, so a dependency would buy nothing.
//! - Names whose lengths differ by more than the allowed distance are not compared
//!   at all, so a huge unknown name costs no more than reading it.
//! - A name is suggested only within a third of the unknown name's length (at least
//!   one edit): `ad` and `summ` find `add` and `sum`, while `frobnicate` finds nothing
//!   rather than a random op. Ties go to the first name in sorted order.

/// The candidate nearest to `unknown`, if it is near enough to be a typo of it.
pub(super) fn nearest<'a>(
    unknown: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let length = unknown.chars().count();
    let within = (length / 3).max(1);
    candidates
        .into_iter()
        .filter(|name| name.chars().count().abs_diff(length) <= within)
        .map(|name| (edit_distance(unknown, name), name))
        .filter(|&(distance, _)| distance <= within)
        .min()
        .map(|(_, name)| name)
}

/// The optimal string alignment distance between `a` and `b`, in characters: the
/// fewest insertions, deletions, substitutions and neighbour swaps from one to the
/// other, no character edited twice.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    // Rows i-2, i-1 and i of the table: distances from a's first i chars to b's first j.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    let mut last = None;
    for (i, ca) in a.chars().enumerate() {
        current[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != cb);
            let mut best = substitute.min(previous[j + 1] + 1).min(current[j] + 1);
            if j > 0 && last == Some(cb) && ca == b[j - 1] {
                best = best.min(before[j - 1] + 1);
            }
            current[j + 1] = best;
        }
        last = Some(ca);
        std::mem::swap(&mut before, &mut previous);
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_single_character_edits() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("add", "add"), 0);
        assert_eq!(edit_distance("ad", "add"), 1);
        assert_eq!(edit_distance("sum", "summ"), 1);
        assert_eq!(edit_distance("mod", "mud"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("mena", "mean"), 1);
        assert_eq!(edit_distance("ab", "ba"), 1);
        assert_eq!(edit_distance("ca", "abc"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn suggests_only_names_near_enough() {
        let names = ["add", "concat", "mean", "sum"];
        assert_eq!(nearest("ad", names), Some("add"));
        assert_eq!(nearest("Add", names), Some("add"));
        assert_eq!(nearest("summ", names), Some("sum"));
        assert_eq!(nearest("concatt", names), Some("concat"));
        assert_eq!(nearest("frobnicate", names), None);
        assert_eq!(nearest("x", names), None);
        assert_eq!(nearest(&"a".repeat(1 << 20), names), None);
    }
}
