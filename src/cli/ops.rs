//! `taskloom ops`: the ops a graph can call, with their arguments and meaning.
//!
//! - The listing walks the registry a run binds graphs to, so it shows exactly the ops
//!   `run` accepts; each builtin's forms and meaning come from its registration
//!   (`taskloom_graph::ops::OpDoc`), and an op without them is listed by name alone.
//! - One line per form (`range(n)`, `range(start, stop)`, ...), the meaning on the
//!   first, in a column so the names scan down the left.
//! - Before the meaning, whether the op is `pure` (a checkpoint keeps its results) or
//!   an `effect` (never kept).

use taskloom::graph::ops::{OpDoc, Purity};
use taskloom::Runtime;

use super::Outcome;

pub fn ops() -> Outcome {
    let runtime = Runtime::new();
    let rows: Vec<(String, String)> = runtime
        .registry()
        .ops()
        .into_iter()
        .flat_map(|(name, purity, doc)| rows(name, purity, doc))
        .collect();
    let width = rows.iter().map(|(call, _)| call.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (call, about) in rows {
        let line = format!("{call:width$}  {about}");
        out.push_str(line.trim_end());
        out.push('\n');
    }
    Ok(out)
}

/// The lines of one op: a call per form, its purity and summary beside the first.
fn rows(name: &str, purity: Purity, doc: Option<&'static OpDoc>) -> Vec<(String, String)> {
    let kind = match purity {
        Purity::Pure { .. } => "pure  ",
        Purity::Effect => "effect",
    };
    let Some(doc) = doc else {
        return vec![(name.to_string(), kind.to_string())];
    };
    doc.forms
        .iter()
        .enumerate()
        .map(|(i, form)| {
            let about = if i == 0 {
                format!("{kind}  {}", doc.summary)
            } else {
                String::new()
            };
            (format!("{name}({form})"), about)
        })
        .collect()
}
