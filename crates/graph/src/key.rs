//! Keys name results. They are interned once into dense ids so that every later pass
//! (validate, cull, order, execute) works on arrays indexed by `KeyId`, not on strings.

use std::hash::BuildHasher;

/// A key's dense index in its graph, in order of first appearance in the source.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct KeyId(pub u32);

impl KeyId {
    /// The id as an array index.
    #[inline]
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Key names in one buffer, indexed by id: what a graph keeps of the `KeyTable` it was
/// read with. A run looks up only the few keys it is asked for, by a pass over the
/// names (a few ms per million keys), so the table's slots, 16 bytes per key of a
/// million-key graph, are freed once the graph is read.
#[derive(Clone, Default)]
pub struct Names {
    text: String,
    ends: Vec<u32>,
}

impl Names {
    /// The name of `id`.
    pub fn name(&self, id: KeyId) -> &str {
        &self.text[self.range(id)]
    }

    /// Where the name of `id` lies among all the names, in bytes.
    pub(crate) fn range(&self, id: KeyId) -> std::ops::Range<usize> {
        let end = self.ends[id.index()] as usize;
        let start = match id.0 {
            0 => 0,
            i => self.ends[i as usize - 1] as usize,
        };
        start..end
    }

    /// The id of `name`, if it is one of the names: a pass over them that compares
    /// the bytes of only the names of its length.
    pub fn find(&self, name: &str) -> Option<KeyId> {
        let mut start = 0;
        for (id, &end) in self.ends.iter().enumerate() {
            let end = end as usize;
            if end - start == name.len() && &self.text.as_bytes()[start..end] == name.as_bytes() {
                return Some(KeyId(id as u32));
            }
            start = end;
        }
        None
    }

    /// How many names there are.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there is no name.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
}

impl std::fmt::Debug for Names {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Names").field("len", &self.len()).finish()
    }
}

/// An interner from key names to ids that stores every name once, in one buffer.
///
/// - A million keys cost their bytes plus about 20 bytes each while a graph is read;
///   the graph keeps the names alone (`Names`).
/// - Loading a large graph is mostly looking up keys in a table far larger than the
///   caches, so a lookup is built to cost one trip to memory: the table is open
///   addressing with linear probing, and a slot holds both the id and 32 bits of the
///   name's hash, so probing past other keys reads neither their names nor a second
///   array (a hashbrown table reads a control byte, then a bucket elsewhere: two trips).
#[derive(Clone, Default)]
pub struct KeyTable {
    names: Names,
    /// `EMPTY`, or a key's `tag(hash) << 32 | id`; a power of two long, at most
    /// `MAX_LOAD` full.
    slots: Vec<u64>,
    hasher: foldhash::fast::FixedState,
}

/// A slot that holds no key.
const EMPTY: u64 = u64::MAX;

/// The fullest a table gets before it doubles, as (numerator, denominator): linear
/// probing at three quarters full still finds most keys within one cache line of
/// eight slots, and a fuller table needs fewer pages.
const MAX_LOAD: (usize, usize) = (3, 4);

/// How many names ahead of its lookup a name's slot is fetched toward the cache when
/// names are looked up in a run (`from_names`, the parsers' `look_up_in_order`): about
/// a trip to memory's worth of lookups of names already in the cache.
pub(crate) const FETCH_AHEAD: usize = 16;

/// The fewest slots a table has once it holds a key.
const MIN_SLOTS: usize = 16;

impl std::fmt::Debug for KeyTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyTable")
            .field("len", &self.len())
            .finish()
    }
}

impl KeyTable {
    /// An empty table.
    pub fn new() -> Self {
        KeyTable::default()
    }

    /// An empty table with room for `keys` keys.
    pub fn with_capacity(keys: usize) -> Self {
        let mut table = KeyTable {
            names: Names {
                text: String::with_capacity(keys * 8),
                ends: Vec::with_capacity(keys),
            },
            ..KeyTable::default()
        };
        table.grow_to(keys);
        table
    }

    /// Room for `keys` more keys, with names as long as the average so far.
    /// Only the name buffers are reserved: memory reserved and never written costs
    /// nothing, but every page of the slots is written (an estimate twice too high
    /// would cost 16 bytes a key), so they grow as keys come, which moves slots
    /// without reading a name.
    pub fn reserve(&mut self, keys: usize) {
        let names = &mut self.names;
        let average = names.text.len().div_ceil(names.len().max(1));
        names.text.reserve(keys * average);
        names.ends.reserve(keys);
    }

    /// A table of the names `text` holds, the `i`th ending at `ends[i]` (which must
    /// rise, and end on character boundaries), looked up as if interned in that order;
    /// and the first name that repeats an earlier one, if any, which is then left out
    /// of the lookups. What a binary graph is read into: every name hashed once, and
    /// no name copied.
    pub(crate) fn from_names(text: String, ends: Vec<u32>) -> (KeyTable, Option<KeyId>) {
        let mut table = KeyTable {
            names: Names { text, ends },
            ..KeyTable::default()
        };
        let n = table.len();
        table.grow_to(n);
        // The slots of the next names are fetched while earlier ones are inserted, so
        // that their trips to memory overlap (as the parsers' batches do).
        let hash = |table: &KeyTable, i: usize| table.hash(table.name(KeyId(i as u32)));
        let mut ahead: Vec<u64> = (0..n.min(FETCH_AHEAD)).map(|i| hash(&table, i)).collect();
        for i in 0..n {
            let hash_i = ahead[i % FETCH_AHEAD];
            if i + FETCH_AHEAD < n {
                ahead[i % FETCH_AHEAD] = hash(&table, i + FETCH_AHEAD);
            }
            let id = KeyId(i as u32);
            match table.find(hash_i, table.name(id)) {
                Ok(_) => return (table, Some(id)),
                Err(slot) => table.slots[slot] = tag(hash_i) << 32 | u64::from(id.0),
            }
        }
        (table, None)
    }

    /// The id of `name`, added if it was not there yet.
    #[inline]
    pub fn intern(&mut self, name: &str) -> KeyId {
        self.intern_hashed(name, self.hash(name))
    }

    /// The hash `intern_hashed` takes, with the slot where the lookup of `name` will
    /// start fetched toward the cache: a caller that looks up several names hashes
    /// them all first, so that their trips to memory overlap.
    #[inline]
    pub fn hash(&self, name: &str) -> u64 {
        let hash = self.hasher.hash_one(name);
        self.fetch(hash);
        hash
    }

    /// Fetches the slot where the lookup of a name whose hash is `hash` will start
    /// toward the cache. Every table hashes alike, so a hash taken by one table (a
    /// parser's on another thread) serves another.
    #[inline]
    pub fn fetch(&self, hash: u64) {
        if let Some(slot) = self.slots.get(home(hash, self.slots.len().wrapping_sub(1))) {
            prefetch(slot);
        }
    }

    /// `intern`, for a name whose `hash` was taken already.
    #[inline]
    pub fn intern_hashed(&mut self, name: &str, hash: u64) -> KeyId {
        if (self.len() + 1) * MAX_LOAD.1 > self.slots.len() * MAX_LOAD.0 {
            self.grow_to(self.len() + 1);
        }
        match self.find(hash, name) {
            Ok(id) => id,
            Err(slot) => {
                let names = &mut self.names;
                names.text.push_str(name);
                let end = u32::try_from(names.text.len()).expect("key names exceed 4 GiB in total");
                let id = names.ends.len() as u32;
                names.ends.push(end);
                self.slots[slot] = tag(hash) << 32 | u64::from(id);
                KeyId(id)
            }
        }
    }

    /// The id of `name`, if it was interned.
    pub fn get(&self, name: &str) -> Option<KeyId> {
        self.find(self.hasher.hash_one(name), name).ok()
    }

    /// The name of `id`.
    pub fn name(&self, id: KeyId) -> &str {
        self.names.name(id)
    }

    /// The names alone, once no more are interned: the table's slots are freed.
    pub fn into_names(self) -> Names {
        self.names
    }

    /// How many keys were interned.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether no key was interned.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The id of `name` (whose hash is `hash`), or the empty slot where it belongs.
    #[inline]
    fn find(&self, hash: u64, name: &str) -> Result<KeyId, usize> {
        if self.slots.is_empty() {
            return Err(0);
        }
        let mask = self.slots.len() - 1;
        let mut slot = home(hash, mask);
        loop {
            let entry = self.slots[slot];
            if entry == EMPTY {
                return Err(slot);
            }
            if entry >> 32 == tag(hash) {
                let id = KeyId(entry as u32);
                if self.name(id) == name {
                    return Ok(id);
                }
            }
            slot = (slot + 1) & mask;
        }
    }

    /// Makes room for `keys` keys, rehashing every name if the table must grow.
    fn grow_to(&mut self, keys: usize) {
        let wanted = (keys * MAX_LOAD.1)
            .div_ceil(MAX_LOAD.0)
            .next_power_of_two()
            .max(MIN_SLOTS);
        if wanted <= self.slots.len() {
            return;
        }
        let old = std::mem::replace(&mut self.slots, huge_page_vec(wanted, EMPTY));
        let mask = wanted - 1;
        for entry in old.into_iter().filter(|&e| e != EMPTY) {
            let mut slot = (entry >> 32) as usize & mask;
            while self.slots[slot] != EMPTY {
                slot = (slot + 1) & mask;
            }
            self.slots[slot] = entry;
        }
    }
}

/// A vector of `len` copies of `value`, in huge pages where the system gives them:
/// a lookup lands on a random slot, and with 4 KiB pages every lookup in a table of a
/// million keys (16 MiB, 4,096 pages) also misses the TLB, which costs another
/// trip to memory (several under a hypervisor); 2 MiB pages make that 8 pages.
fn huge_page_vec(len: usize, value: u64) -> Vec<u64> {
    let mut slots = Vec::with_capacity(len);
    let bytes = len * std::mem::size_of::<u64>();
    #[cfg(target_os = "linux")]
    if bytes >= HUGE_PAGE {
        let start = slots.as_ptr() as usize;
        let aligned = start.next_multiple_of(HUGE_PAGE);
        let end = (start + bytes) / HUGE_PAGE * HUGE_PAGE;
        if aligned < end {
            // SAFETY: the range lies inside the vector's allocation, which nothing has
            // written yet; MADV_HUGEPAGE only asks how to back it and changes no byte.
            // It is a hint: when refused, the table works as well in small pages.
            unsafe {
                libc::madvise(
                    aligned as *mut libc::c_void,
                    end - aligned,
                    libc::MADV_HUGEPAGE,
                );
            }
        }
    }
    slots.resize(len, value);
    slots
}

/// The size of a huge page on x86_64 and most other Linux targets.
const HUGE_PAGE: usize = 2 << 20;

/// Asks the processor to fetch `slot`'s cache line, without waiting for it.
#[inline]
fn prefetch(slot: &u64) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint: it neither reads nor faults, whatever the address
    // (here a valid one), and SSE is part of every x86_64 target.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>((slot as *const u64).cast());
    }
}

/// The slot where probing for `hash` starts: the low bits of its tag, so that a
/// growing table places each slot anew from the slot alone.
#[inline]
fn home(hash: u64, mask: usize) -> usize {
    tag(hash) as usize & mask
}

/// The hash bits a slot keeps, to tell keys apart without reading their names: the
/// high 31, so that no slot holding a key is ever `EMPTY` (all ones).
#[inline]
fn tag(hash: u64) -> u64 {
    hash >> 33
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interning_is_idempotent_and_dense() {
        let mut keys = KeyTable::new();
        let x = keys.intern("x");
        let y = keys.intern("why");
        assert_eq!(keys.intern("x"), x);
        assert_eq!((x, y), (KeyId(0), KeyId(1)));
        assert_eq!(keys.name(y), "why");
        assert_eq!(keys.get("why"), Some(y));
        assert_eq!(keys.get("nope"), None);
        assert_eq!(keys.len(), 2);
    }

    #[test]
    fn many_keys_round_trip() {
        let mut keys = KeyTable::new();
        for i in 0..10_000 {
            assert_eq!(keys.intern(&format!("k{i}")), KeyId(i));
        }
        for i in (0..10_000).rev() {
            assert_eq!(keys.get(&format!("k{i}")), Some(KeyId(i)));
            assert_eq!(keys.name(KeyId(i)), format!("k{i}"));
        }
    }
}
