//! The workers that may take tasks, by how many tasks each holds: the least busy one
//! (the first among equals) is found without looking at the others.
//!
//! - One bitset of workers per load, and over each a summary with a bit per word of it
//!   that is not empty: finding the least busy costs O(loads + workers / 4,096) word
//!   reads, a change O(1). (A `BTreeSet` of (load, worker) did the same in O(log
//!   workers), but its inserts and removes took about 15% of the core's time.)
//! - Loads are small (a worker holds at most its slots), so there are few bitsets.

/// Bits per word.
const BITS: usize = 64;

#[derive(Default)]
pub(crate) struct Loads {
    /// Indexed by load.
    levels: Vec<Level>,
}

#[derive(Default)]
struct Level {
    words: Vec<u64>,
    /// Bit `i` is set when `words[i]` is not zero.
    summary: Vec<u64>,
}

impl Loads {
    /// `worker`, holding `load` tasks, may take more.
    pub fn insert(&mut self, load: usize, worker: u32) {
        if self.levels.len() <= load {
            self.levels.resize_with(load + 1, Level::default);
        }
        let level = &mut self.levels[load];
        let (w, bit) = (worker as usize / BITS, worker as usize % BITS);
        if level.words.len() <= w {
            level.words.resize(w + 1, 0);
            level.summary.resize(w / BITS + 1, 0);
        }
        level.words[w] |= 1 << bit;
        level.summary[w / BITS] |= 1 << (w % BITS);
    }

    /// `worker`, holding `load` tasks, was inserted and may not take more now.
    pub fn remove(&mut self, load: usize, worker: u32) {
        let level = &mut self.levels[load];
        let (w, bit) = (worker as usize / BITS, worker as usize % BITS);
        level.words[w] &= !(1 << bit);
        if level.words[w] == 0 {
            level.summary[w / BITS] &= !(1 << (w % BITS));
        }
    }

    /// The least busy worker, the first among equals, with its load.
    pub fn least_busy(&self) -> Option<(usize, u32)> {
        self.levels.iter().enumerate().find_map(|(load, level)| {
            let (s, &summary) = level
                .summary
                .iter()
                .enumerate()
                .find(|&(_, &bits)| bits != 0)?;
            let w = s * BITS + summary.trailing_zeros() as usize;
            let worker = w * BITS + level.words[w].trailing_zeros() as usize;
            Some((load, worker as u32))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_least_busy_comes_first_then_the_lowest_index() {
        let mut loads = Loads::default();
        assert_eq!(loads.least_busy(), None);
        loads.insert(2, 5);
        loads.insert(1, 9000);
        loads.insert(1, 70);
        assert_eq!(loads.least_busy(), Some((1, 70)));
        loads.remove(1, 70);
        assert_eq!(loads.least_busy(), Some((1, 9000)));
        loads.remove(1, 9000);
        assert_eq!(loads.least_busy(), Some((2, 5)));
        loads.insert(0, 4095);
        loads.insert(0, 4096);
        assert_eq!(loads.least_busy(), Some((0, 4095)));
        loads.remove(0, 4095);
        assert_eq!(loads.least_busy(), Some((0, 4096)));
    }
}
