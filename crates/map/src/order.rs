//! Releasing items' output in input order although they finish in any order: item k is
//! released as soon as items 1..k have all ended.

use std::collections::BTreeMap;

/// Holds what ended early until everything before it has ended.
#[derive(Debug)]
pub struct Reorder<T> {
    next: usize,
    waiting: BTreeMap<usize, T>,
}

impl<T> Default for Reorder<T> {
    fn default() -> Self {
        Reorder {
            next: 0,
            waiting: BTreeMap::new(),
        }
    }
}

impl<T> Reorder<T> {
    /// Whether item `index` (0-based) is released as soon as it ends.
    pub fn is_next(&self, index: usize) -> bool {
        index == self.next
    }

    /// Item `index` (0-based) ended with `value`; returns what can be released now, in
    /// order.
    pub fn push(&mut self, index: usize, value: T) -> Vec<T> {
        if index != self.next {
            self.waiting.insert(index, value);
            return Vec::new();
        }
        let mut out = vec![value];
        self.next += 1;
        while let Some(value) = self.waiting.remove(&self.next) {
            out.push(value);
            self.next += 1;
        }
        out
    }

    /// Everything still held, in order: for a run that stopped early, whose gaps will
    /// never fill.
    pub fn drain(&mut self) -> Vec<T> {
        std::mem::take(&mut self.waiting).into_values().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_in_order() {
        let mut r = Reorder::default();
        assert!(r.is_next(0) && !r.is_next(2));
        assert!(r.push(2, 'c').is_empty());
        assert!(r.push(1, 'b').is_empty());
        assert_eq!(r.push(0, 'a'), ['a', 'b', 'c']);
        assert_eq!(r.push(3, 'd'), ['d']);
        assert!(r.push(5, 'f').is_empty());
        assert_eq!(r.drain(), ['f']);
        assert!(r.drain().is_empty());
    }
}
