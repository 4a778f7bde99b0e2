//! What each builtin op takes and means, for listings (`taskloom ops`) and help.
//!
//! - One row per builtin: its forms (the argument lists it accepts), a line saying
//!   what it computes, and whether it is pure (`doc`) or has effects (`effect`), which
//!   decides whether a checkpoint may keep its results. `Registry::builtins` attaches each row to its op, so a listing
//!   walks the registry and shows exactly the ops a graph can call.
//! - The tests below keep the rows true: every builtin has a row, every row names a
//!   builtin, and the forms accept exactly the argument counts the op accepts.

use super::Purity;

/// How a builtin op is called and what it computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpDoc {
    /// The op's name.
    pub name: &'static str,
    /// Each argument list the op accepts, as `a, b`; a last argument written `a...`
    /// stands for any number of arguments, none included.
    pub forms: &'static [&'static str],
    /// What the op computes, in one line.
    pub summary: &'static str,
    /// Whether its result depends on its arguments alone.
    pub purity: Purity,
}

/// Every builtin op, grouped as in the graph format's table.
pub(super) const BUILTINS: &[OpDoc] = &[
    doc("add", &["a, b"], "a + b"),
    doc("sub", &["a, b"], "a - b"),
    doc("mul", &["a, b"], "a * b"),
    doc("div", &["a, b"], "a / b, true division: always a float"),
    doc(
        "floordiv",
        &["a, b"],
        "a / b rounded toward negative infinity",
    ),
    doc(
        "mod",
        &["a, b"],
        "a modulo b, with the sign of b (as Python)",
    ),
    doc(
        "pow",
        &["a, b"],
        "a to the power b; a negative int power gives a float",
    ),
    doc("neg", &["a"], "-a"),
    doc("abs", &["a"], "the absolute value of a"),
    doc("inc", &["a"], "a + 1"),
    doc("dec", &["a"], "a - 1"),
    doc("eq", &["a, b"], "a equals b (ints and floats by value)"),
    doc("ne", &["a, b"], "a differs from b"),
    doc(
        "lt",
        &["a, b"],
        "a < b (numbers by value, strings and lists in order)",
    ),
    doc("le", &["a, b"], "a <= b"),
    doc("gt", &["a, b"], "a > b"),
    doc("ge", &["a, b"], "a >= b"),
    doc("sum", &["list"], "the total of a list of numbers; 0 for []"),
    doc(
        "prod",
        &["list"],
        "the product of a list of numbers; 1 for []",
    ),
    doc(
        "min",
        &["list"],
        "the smallest element itself; [] is an error",
    ),
    doc(
        "max",
        &["list"],
        "the largest element itself; [] is an error",
    ),
    doc(
        "mean",
        &["list"],
        "the mean of a list of numbers, a float; [] is an error",
    ),
    doc(
        "len",
        &["x"],
        "the length of a list, string (in characters) or bytes",
    ),
    doc("list", &["a..."], "the arguments as a list"),
    doc(
        "range",
        &["n", "start, stop", "start, stop, step"],
        "a list of ints, as Python's range",
    ),
    doc(
        "concat",
        &["lists"],
        "a list of lists joined into one list, or a list of strings into one string",
    ),
    doc(
        "getitem",
        &["list, i"],
        "element i; negative i counts from the end",
    ),
    doc("identity", &["a"], "a"),
    effect(
        "sleep",
        &["ms", "ms, value"],
        "waits ms milliseconds, then gives value (or null)",
    ),
    doc(
        "busy",
        &["ms", "ms, value"],
        "burns CPU for ms milliseconds, then gives value (or null)",
    ),
    effect("fail", &["message"], "a task error carrying message"),
    effect(
        "crash",
        &[""],
        "aborts the process that runs it (for testing isolation)",
    ),
    effect(
        "shell",
        &["command"],
        "runs sh -c command; its stdout without one trailing newline",
    ),
];

/// The version of every pure builtin's results: raised when a builtin comes to compute
/// something else, so that checkpoints made before do not give the old results.
const BUILTIN_VERSION: u32 = 1;

/// A pure builtin.
const fn doc(name: &'static str, forms: &'static [&'static str], summary: &'static str) -> OpDoc {
    OpDoc {
        name,
        forms,
        summary,
        purity: Purity::Pure {
            version: BUILTIN_VERSION,
        },
    }
}

/// A builtin with effects (time, processes, failure on purpose): never checkpointed.
const fn effect(
    name: &'static str,
    forms: &'static [&'static str],
    summary: &'static str,
) -> OpDoc {
    OpDoc {
        name,
        forms,
        summary,
        purity: Purity::Effect,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::Registry;
    use crate::value::Value;

    /// Whether `n` arguments fit one of `doc`'s forms.
    fn accepts(doc: &OpDoc, n: usize) -> bool {
        doc.forms.iter().any(|form| {
            let params: Vec<&str> = form.split(", ").filter(|p| !p.is_empty()).collect();
            match params.last() {
                Some(last) if last.ends_with("...") => n + 1 >= params.len(),
                _ => n == params.len(),
            }
        })
    }

    #[test]
    fn every_builtin_has_exactly_one_row() {
        let registry = Registry::builtins();
        let mut documented: Vec<&str> = BUILTINS.iter().map(|d| d.name).collect();
        documented.sort_unstable();
        assert_eq!(documented, registry.names());
        for (name, purity, doc) in registry.ops() {
            assert_eq!(doc.map(|d| d.name), Some(name));
            assert_eq!(doc.map(|d| d.purity), Some(purity));
        }
    }

    #[test]
    fn the_forms_accept_exactly_what_the_ops_accept() {
        let registry = Registry::builtins();
        for doc in BUILTINS {
            // `crash()` aborts: only its arity refusals can be tried in process.
            let counts = if doc.name == "crash" { 1..=4 } else { 0..=4 };
            for n in counts {
                // Small ints suit every op that takes numbers or a duration; other ops
                // refuse them as a type error, which is not an arity error either.
                let args = vec![Value::Int(1); n];
                let result = registry.get(doc.name).expect("registered")(&args);
                let refused = matches!(&result, Err(e) if e.0.starts_with("takes "));
                assert_eq!(
                    refused,
                    !accepts(doc, n),
                    "{}({n} arguments): {result:?}",
                    doc.name
                );
            }
        }
    }
}
