//! The store: entries round-trip, a damaged one is reported (never decoded into a
//! wrong value), writes are whole or absent, and only a new, empty or marked directory
//! becomes a store.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use taskloom_checkpoint::{Digest, EntryError, Stats, Store, StoreError};
use taskloom_graph::Value;

fn digest(byte: u8) -> Digest {
    Digest([byte; 32])
}

fn entry_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for sub in fs::read_dir(dir).unwrap() {
        let sub = sub.unwrap().path();
        if sub.is_dir() && sub.file_name().unwrap() != "tmp" {
            found.extend(fs::read_dir(&sub).unwrap().map(|e| e.unwrap().path()));
        }
    }
    found
}

#[test]
fn values_round_trip_and_missing_ones_are_missing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let values = [
        Value::Null,
        Value::Int(-7),
        Value::Float(2.5),
        Value::str("résumé"),
        Value::list([Value::Int(1), Value::list([Value::Bool(true)])]),
        Value::Bytes(Arc::from(&[0u8, 255, 3][..])),
    ];
    for (i, value) in values.iter().enumerate() {
        store.save(&digest(i as u8), value).unwrap();
    }
    for (i, value) in values.iter().enumerate() {
        assert_eq!(&store.load(&digest(i as u8)).unwrap(), value);
    }
    assert!(matches!(store.load(&digest(99)), Err(EntryError::Missing)));
    let stats = store.stats().unwrap();
    assert_eq!((stats.entries, stats.temporary), (values.len() as u64, 0));
    // Saving again leaves the entry as it is.
    store.save(&digest(1), &Value::Int(-7)).unwrap();
    assert_eq!(store.stats().unwrap(), stats);
}

#[test]
fn every_damage_is_detected_and_the_damaged_entry_removed() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let value = Value::list((0..100).map(Value::Int));
    store.save(&digest(1), &value).unwrap();
    let path = entry_files(dir.path()).pop().unwrap();
    let good = fs::read(&path).unwrap();
    let damages: Vec<Vec<u8>> = vec![
        Vec::new(),
        good[..10].to_vec(),
        good[..good.len() - 1].to_vec(),
        [&good[..], &[0u8][..]].concat(),
        {
            let mut flipped = good.clone();
            let last = flipped.len() - 1;
            flipped[last] ^= 0x40;
            flipped
        },
        {
            let mut flipped = good.clone();
            flipped[20] ^= 0x01;
            flipped
        },
        {
            let mut magic = good.clone();
            magic[0] = b'X';
            magic
        },
    ];
    for damaged in damages {
        fs::write(&path, &damaged).unwrap();
        assert!(
            matches!(store.load(&digest(1)), Err(EntryError::Damaged(_))),
            "{} bytes",
            damaged.len()
        );
        assert!(!store.holds(&digest(1)));
        assert!(!path.exists(), "a damaged entry is removed");
        store.save(&digest(1), &value).unwrap();
        assert!(store.holds(&digest(1)));
    }
}

#[test]
fn a_write_is_whole_or_absent_and_leftovers_do_no_harm() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    // What a writer killed before its rename leaves: a temporary file only.
    fs::write(dir.path().join("tmp").join("partial.1.0"), b"tlckpt1\n\x05").unwrap();
    assert!(matches!(store.load(&digest(3)), Err(EntryError::Missing)));
    store.save(&digest(3), &Value::Int(3)).unwrap();
    assert_eq!(store.load(&digest(3)).unwrap(), Value::Int(3));
    assert_eq!(
        store.stats().unwrap(),
        Stats {
            entries: 1,
            bytes: fs::metadata(&entry_files(dir.path())[0]).unwrap().len(),
            temporary: 1
        }
    );
    let removed = store.clear().unwrap();
    assert_eq!((removed.entries, removed.temporary), (1, 1));
    assert_eq!(store.stats().unwrap(), Stats::default());
    // Still a store.
    Store::existing(dir.path()).unwrap();
}

#[test]
fn concurrent_writers_of_one_digest_leave_one_good_entry() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let value = Value::list((0..10_000).map(Value::Int));
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                for round in 0..20u8 {
                    store.save(&digest(round), &value).unwrap();
                    assert_eq!(store.load(&digest(round)).unwrap(), value);
                }
            });
        }
    });
    let stats = store.stats().unwrap();
    assert_eq!((stats.entries, stats.temporary), (20, 0));
}

/// The ranks of an MPI job open one new store at once: each must find it a store,
/// whichever of them makes it (one that lost the race once saw the winner's files and
/// refused the directory).
#[test]
fn processes_making_one_store_at_once_all_open_it() {
    let dir = tempfile::tempdir().unwrap();
    for round in 0..100 {
        let store = dir.path().join(format!("s{round}"));
        let start = Arc::new(std::sync::Barrier::new(4));
        let openers: Vec<_> = (0..4)
            .map(|_| {
                let (store, start) = (store.clone(), Arc::clone(&start));
                std::thread::spawn(move || {
                    start.wait();
                    Store::open(&store).map(|_| ())
                })
            })
            .collect();
        for opener in openers {
            let opened = opener.join().unwrap();
            assert!(opened.is_ok(), "round {round}: {opened:?}");
        }
    }
}

#[test]
fn only_a_new_empty_or_marked_directory_is_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let new = dir.path().join("a/b/new");
    Store::open(&new).unwrap();
    Store::open(&new).unwrap();
    Store::existing(&new).unwrap();
    let empty = dir.path().join("empty");
    fs::create_dir(&empty).unwrap();
    Store::open(&empty).unwrap();
    // A run killed while it wrote the marker left only the marker's temporary file.
    let interrupted = dir.path().join("interrupted");
    fs::create_dir(&interrupted).unwrap();
    fs::write(interrupted.join("taskloom-checkpoint.new-12345"), "task").unwrap();
    Store::open(&interrupted).unwrap();
    Store::existing(&interrupted).unwrap();
    let other = dir.path().join("other");
    fs::create_dir(&other).unwrap();
    fs::write(other.join("data.csv"), "1,2\n").unwrap();
    assert!(matches!(
        Store::open(&other),
        Err(StoreError::NotAStore { .. })
    ));
    assert!(matches!(
        Store::existing(&other),
        Err(StoreError::NotAStore { .. })
    ));
    assert_eq!(fs::read_dir(&other).unwrap().count(), 1, "nothing written");
    assert!(matches!(
        Store::existing(dir.path().join("missing")),
        Err(StoreError::Io { .. })
    ));
    assert!(matches!(
        Store::open(other.join("data.csv")),
        Err(StoreError::Io { .. })
    ));
    fs::write(
        new.join("taskloom-checkpoint"),
        "taskloom checkpoint store, format 9\n",
    )
    .unwrap();
    let refused = Store::open(&new).unwrap_err();
    assert!(matches!(refused, StoreError::Format { .. }));
    assert!(refused.to_string().contains("format 9"), "{refused}");
}
