//! A graph is read up to the runtime's source limit and no further: an endless stream
//! ends with an error naming it and the limit, and a source of exactly the limit loads.
//! (The CLI's limit, `MAX_SOURCE_BYTES`, takes tens of seconds to reach on
//! `/dev/zero`; a lowered one shows the same path in milliseconds.)

use std::path::Path;
use std::time::{Duration, Instant};

use taskloom::Runtime;

const LIMIT: u64 = 1 << 20;

fn limited() -> Runtime {
    Runtime::new().with_source_limit(LIMIT)
}

#[test]
fn dev_zero_is_refused_at_the_limit_naming_it() {
    let started = Instant::now();
    let error = limited()
        .load(Path::new("/dev/zero"))
        .err()
        .expect("refused");
    assert_eq!(
        error.to_string(),
        format!("/dev/zero: larger than {LIMIT} bytes, the size limit of a graph file")
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn an_endless_reader_is_refused_at_the_limit() {
    let endless = std::io::repeat(b'#');
    let error = limited()
        .load_from(endless, Path::new("<stdin>"))
        .err()
        .expect("refused");
    assert!(
        error.to_string().starts_with("<stdin>: larger than"),
        "{error}"
    );
}

#[test]
fn a_source_of_exactly_the_limit_loads_and_one_byte_more_does_not() {
    let mut source = b"a = inc(1)\n#".to_vec();
    source.resize(LIMIT as usize, b'.');
    let program = limited()
        .load_from(&source[..], Path::new("exact"))
        .unwrap();
    assert_eq!(program.graph().len(), 1);
    source.push(b'.');
    assert!(limited().load_from(&source[..], Path::new("over")).is_err());
}
