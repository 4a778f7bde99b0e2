//! "Did you mean": the registered op nearest in spelling to an unknown one.
//!
//! - Nearness is the edit distance (insertions, deletions, substitutions), computed by
//!   the textbook two-row dynamic program: op names are short and there are a few
//!   dozen, so a dependency would buy nothing.
//! - A name is suggested only within a third of the unknown name's length (at least
//!   one edit): `ad` and `summ` find `add` and `sum`, while `frobnicate` finds nothing
//!   rather than a random op. Ties go to the first name in sorted order.

/// The candidate nearest to `unknown`, if it is near enough to be a typo of it.
pub(super) fn nearest<'a>(
    unknown: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let within = (unknown.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|name| (edit_distance(unknown, name), name))
        .filter(|&(distance, _)| distance <= within)
        .min()
        .map(|(_, name)| name)
}

/// Levenshtein distance between `a` and `b`, in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        current[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != cb);
            current[j + 1] = substitute.min(previous[j + 1] + 1).min(current[j] + 1);
        }
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
    }
}
