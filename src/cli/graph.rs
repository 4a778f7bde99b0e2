//! `taskloom graph`: the (culled) graph as Graphviz dot or as an SVG picture.

use clap::ValueEnum;
use taskloom::graph::{cull, dot::to_dot, KeyId};
use taskloom::Runtime;

use super::{GraphFile, Outcome, OutputFile};

#[derive(clap::Args)]
pub struct GraphArgs {
    #[command(flatten)]
    graph: GraphFile,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Dot)]
    format: Format,
    /// Write to this file instead of stdout.
    #[arg(long)]
    out: Option<std::path::PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// Graphviz dot text.
    Dot,
    /// An SVG picture: layered top-down by depth (summarised beyond a few thousand keys).
    Svg,
}

pub fn graph(args: GraphArgs) -> Outcome {
    let out = args.out.as_deref().map(OutputFile::check).transpose()?;
    let program = args.graph.load(&Runtime::new())?;
    let graph = program.graph();
    let keys: Vec<KeyId> = match args.graph.requested(graph)? {
        Some(targets) => cull(graph, &targets),
        None => graph.keys().collect(),
    };
    let text = match args.format {
        Format::Dot => to_dot(graph, &keys),
        Format::Svg => taskloom_analysis::dag_svg::to_svg(graph, &keys, "--get KEY"),
    };
    match out {
        Some(out) => {
            out.write(text.as_bytes())?;
            Ok(String::new())
        }
        None => Ok(text),
    }
}
