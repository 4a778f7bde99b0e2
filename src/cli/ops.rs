//! `taskloom ops`: the ops a graph can call, with their arguments and meaning.
//!
//! - The listing walks the registry a run binds graphs to, so it shows exactly the ops
//!   `run` accepts; each builtin's forms and meaning come from its registration
//!   (`taskloom_graph::ops::OpDoc`), and an op without them is listed by name alone.
//! - One line per form (`range(n)`, `range(start, stop)`, ...), the meaning on the
//!   first, in a column so the names scan down the left.

use taskloom::graph::ops::OpDoc;
use taskloom::Runtime;

use super::Outcome;

pub fn ops() -> Outcome {
    let runtime = Runtime::new();
    let rows: Vec<(String, &str)> = runtime
        .registry()
        .ops()
        .into_iter()
        .flat_map(|(name, doc)| rows(name, doc))
        .collect();
    let width = rows.iter().map(|(call, _)| call.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (call, summary) in rows {
        let line = format!("{call:width$}  {summary}");
        out.push_str(line.trim_end());
        out.push('\n');
    }
    Ok(out)
}

/// The lines of one op: a call per form, the summary beside the first.
fn rows(name: &str, doc: Option<&'static OpDoc>) -> Vec<(String, &'static str)> {
    let Some(doc) = doc else {
        return vec![(name.to_string(), "")];
    };
    doc.forms
        .iter()
        .enumerate()
        .map(|(i, form)| {
            let summary = if i == 0 { doc.summary } else { "" };
            (format!("{name}({form})"), summary)
        })
        .collect()
}
