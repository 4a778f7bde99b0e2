//! Keys name results. They are interned once into dense ids so that every later pass
//! (validate, cull, order, execute) works on arrays indexed by `KeyId`, not on strings.

use std::hash::BuildHasher;

use hashbrown::HashTable;

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

/// An interner from key names to ids that stores every name once, in one buffer.
///
/// A million keys cost their bytes plus about twelve bytes each, which is what keeps a
/// million-task graph within a few hundred bytes per task.
#[derive(Clone, Default)]
pub struct KeyTable {
    text: String,
    ends: Vec<u32>,
    table: HashTable<u32>,
    hasher: foldhash::fast::FixedState,
}

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
        KeyTable {
            text: String::with_capacity(keys * 8),
            ends: Vec::with_capacity(keys),
            table: HashTable::with_capacity(keys),
            ..KeyTable::default()
        }
    }

    /// The id of `name`, added if it was not there yet.
    pub fn intern(&mut self, name: &str) -> KeyId {
        let hash = self.hasher.hash_one(name);
        let KeyTable {
            text,
            ends,
            table,
            hasher,
        } = self;
        let entry = table.entry(
            hash,
            |&id| slice(text, ends, id) == name,
            |&id| hasher.hash_one(slice(text, ends, id)),
        );
        let id = *entry
            .or_insert_with(|| {
                text.push_str(name);
                ends.push(u32::try_from(text.len()).expect("key names exceed 4 GiB in total"));
                (ends.len() - 1) as u32
            })
            .get();
        KeyId(id)
    }

    /// The id of `name`, if it was interned.
    pub fn get(&self, name: &str) -> Option<KeyId> {
        let hash = self.hasher.hash_one(name);
        self.table
            .find(hash, |&id| slice(&self.text, &self.ends, id) == name)
            .map(|&id| KeyId(id))
    }

    /// The name of `id`.
    pub fn name(&self, id: KeyId) -> &str {
        slice(&self.text, &self.ends, id.0)
    }

    /// How many keys were interned.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether no key was interned.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
}

fn slice<'a>(text: &'a str, ends: &[u32], id: u32) -> &'a str {
    let end = ends[id as usize] as usize;
    let start = if id == 0 {
        0
    } else {
        ends[id as usize - 1] as usize
    };
    &text[start..end]
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
