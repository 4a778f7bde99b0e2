//! `map --grid NAME=V1,V2,...`: no panic; a grid that parses is written back as it was
//! given, and the grids' product has one item per combination, in order, each naming
//! its parameters.
//!
//! Input: one `--grid` value per line.

#![no_main]

use taskloom_map::items::is_identifier;
use taskloom_map::{Error, Grid, Source};

/// Products larger than this are counted but not built: building them is only
/// allocation, which the fuzzer would spend its time on.
const MAX_ITEMS: usize = 10_000;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut grids = Vec::new();
    for line in text.split('\n') {
        let Ok(grid) = line.parse::<Grid>() else {
            continue;
        };
        assert!(is_identifier(&grid.name), "{line:?} gives {grid:?}");
        assert!(
            !grid.values.is_empty() && grid.values.iter().all(|v| !v.is_empty()),
            "{line:?} gives {grid:?}"
        );
        assert_eq!(format!("{}={}", grid.name, grid.values.join(",")), line);
        grids.push(grid);
    }
    let total = grids
        .iter()
        .try_fold(1usize, |n, g| n.checked_mul(g.values.len()));
    let repeated = grids
        .iter()
        .enumerate()
        .any(|(i, g)| grids[..i].iter().any(|h| h.name == g.name));
    let loaded = match total {
        Some(n) if n > MAX_ITEMS => return,
        _ => Source::Grids(grids.clone()).load(),
    };
    let items = match (loaded, total) {
        (Err(Error::RepeatedGrid(_)), _) if repeated => return,
        (Err(Error::TooManyCombinations), None) if !repeated => return,
        (Err(Error::NoItems(_)), _) if grids.is_empty() => return,
        (Ok(items), Some(n)) if !repeated && !grids.is_empty() => {
            assert_eq!(items.len(), n, "{text:?}");
            items
        }
        (other, _) => panic!("{text:?}: {other:?}"),
    };
    for (i, item) in items.iter().enumerate() {
        assert_eq!(item.seq, i + 1);
        let names: Vec<&str> = item.params.iter().map(|(n, _)| n.as_str()).collect();
        let expected: Vec<&str> = grids.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, expected);
        let text: Vec<String> = item
            .params
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect();
        assert_eq!(item.bytes, text.join(" ").into_bytes());
    }
    // The last grid varies fastest: consecutive items differ in it first.
    if let [.., last] = grids.as_slice() {
        let values: Vec<&str> = items
            .iter()
            .take(last.values.len())
            .map(|item| item.params.last().map_or("", |(_, v)| v.as_str()))
            .collect();
        assert_eq!(
            values,
            last.values.iter().map(String::as_str).collect::<Vec<_>>()
        );
    }
});
