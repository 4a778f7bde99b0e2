//! A task graph drawn as an SVG picture, without Graphviz: layered by depth, top-down,
//! each node a box labelled with its key and op, arrows from dependency to dependent.
//!
//! Depth is the longest path from a key without dependencies, so every arrow points
//! down. Within a layer, nodes are ordered by the mean position of their neighbours
//! (barycentre sweeps down and up), which removes most crossings on the fan-out and
//! fan-in shapes task graphs have. Layers wider than `ROW` nodes wrap onto several
//! rows, so a few hundred nodes stay legible instead of making a picture metres wide.
//! Beyond `MAX_NODES` keys (or `MAX_EDGES` arrows) single boxes are no longer
//! readable and the file would grow without bound, so the picture summarises instead:
//! one box per depth (or band of depths) with its key count and commonest ops.

use std::collections::HashMap;
use std::fmt::Write;

use taskloom_graph::{Graph, KeyId};

use crate::human::{count, counted};

/// Most keys drawn one box each.
pub const MAX_NODES: usize = 2000;
/// Most arrows drawn one by one.
pub const MAX_EDGES: usize = 10_000;
/// Most boxes in one row; wider layers wrap.
const ROW: usize = 24;
/// Most boxes in a summary.
const MAX_BANDS: usize = 60;

const MARGIN: f64 = 24.0;
const TITLE: f64 = 30.0;
const BOX_H: f64 = 40.0;
const GAP_X: f64 = 16.0;
const GAP_ROW: f64 = 28.0;
const GAP_LAYER: f64 = 56.0;
const CHAR_W: f64 = 7.2;
const LABEL_CHARS: usize = 28;

/// `keys` of `graph` (usually a culled set, closed under dependencies) as an SVG
/// document: every key drawn when there are at most `MAX_NODES`, a summary by depth
/// otherwise (the picture says which, and tells how to cull with `cull_hint`: the
/// caller's way of naming fewer keys, such as a command-line option).
pub fn to_svg(graph: &Graph, keys: &[KeyId], cull_hint: &str) -> String {
    let layout = Layers::new(graph, keys);
    if keys.len() > MAX_NODES || layout.edges > MAX_EDGES {
        summary(graph, &layout, cull_hint)
    } else {
        detailed(graph, &layout)
    }
}

/// Keys grouped by depth, in drawing order.
struct Layers {
    /// `layers[d]`: the keys at depth d, left to right.
    layers: Vec<Vec<KeyId>>,
    /// Depth of each key, by graph index (`u32::MAX` for keys not drawn).
    depth: Vec<u32>,
    edges: usize,
}

impl Layers {
    fn new(graph: &Graph, keys: &[KeyId]) -> Layers {
        const OUT: u32 = u32::MAX;
        let mut depth = vec![OUT; graph.len()];
        for &k in keys {
            depth[k.index()] = 0;
        }
        let drawn = |depth: &[u32], k: KeyId| depth[k.index()] != OUT;
        // Kahn's algorithm over the drawn keys: depth = 1 + deepest dependency.
        let mut waiting: Vec<u32> = vec![0; graph.len()];
        let mut edges = 0;
        for &k in keys {
            let n = graph
                .dependencies(k)
                .iter()
                .filter(|&&d| drawn(&depth, d))
                .count();
            waiting[k.index()] = n as u32;
            edges += n;
        }
        let mut ready: Vec<KeyId> = keys
            .iter()
            .copied()
            .filter(|k| waiting[k.index()] == 0)
            .collect();
        let mut layers: Vec<Vec<KeyId>> = Vec::new();
        let mut next = 0;
        while next < ready.len() {
            let k = ready[next];
            next += 1;
            let d = depth[k.index()] as usize;
            if layers.len() <= d {
                layers.resize_with(d + 1, Vec::new);
            }
            layers[d].push(k);
            for &dependent in graph.dependents(k) {
                if !drawn(&depth, dependent) {
                    continue;
                }
                depth[dependent.index()] = depth[dependent.index()].max(d as u32 + 1);
                waiting[dependent.index()] -= 1;
                if waiting[dependent.index()] == 0 {
                    ready.push(dependent);
                }
            }
        }
        let mut layers = Layers {
            layers,
            depth,
            edges,
        };
        if keys.len() <= MAX_NODES {
            layers.order(graph);
        }
        layers
    }

    /// Barycentre ordering: each layer sorted by where its neighbours in the layer
    /// above (down sweep) or below (up sweep) sit, as a fraction of that layer's width.
    fn order(&mut self, graph: &Graph) {
        let mut position = vec![0.0f64; self.depth.len()];
        let place = |layer: &[KeyId], position: &mut [f64]| {
            for (i, k) in layer.iter().enumerate() {
                position[k.index()] = (i as f64 + 0.5) / layer.len() as f64;
            }
        };
        for layer in &self.layers {
            place(layer, &mut position);
        }
        let depth = &self.depth;
        for sweep in 0..4 {
            let down = sweep % 2 == 0;
            let order: Vec<usize> = if down {
                (1..self.layers.len()).collect()
            } else {
                (0..self.layers.len().saturating_sub(1)).rev().collect()
            };
            for d in order {
                let neighbour = if down { d - 1 } else { d + 1 } as u32;
                let layer = &mut self.layers[d];
                let key_of = |k: KeyId| -> f64 {
                    let near: &[KeyId] = if down {
                        graph.dependencies(k)
                    } else {
                        graph.dependents(k)
                    };
                    let (sum, n) = near
                        .iter()
                        .filter(|n| depth[n.index()] == neighbour)
                        .fold((0.0, 0), |(s, c), n| (s + position[n.index()], c + 1));
                    if n == 0 {
                        position[k.index()]
                    } else {
                        sum / n as f64
                    }
                };
                let mut keyed: Vec<(f64, KeyId)> = layer.iter().map(|&k| (key_of(k), k)).collect();
                keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
                *layer = keyed.into_iter().map(|(_, k)| k).collect();
                place(layer, &mut position);
            }
        }
    }
}

/// Every key a box, every dependency an arrow.
fn detailed(graph: &Graph, layout: &Layers) -> String {
    let label = |k: KeyId| (clip(graph.name(k)), clip(&graph.describe(k)));
    let widest = layout
        .layers
        .iter()
        .flatten()
        .map(|&k| {
            let (a, b) = label(k);
            a.chars().count().max(b.chars().count())
        })
        .max()
        .unwrap_or(4);
    let box_w = (widest as f64 * CHAR_W + 16.0).max(64.0);
    let columns = layout
        .layers
        .iter()
        .map(|l| l.len().min(ROW))
        .max()
        .unwrap_or(1);
    let keys: usize = layout.layers.iter().map(Vec::len).sum();
    let title = format!(
        "{}, {} (dependency → dependent), depth {}",
        counted(keys as u128, "key"),
        counted(layout.edges as u128, "arrow"),
        layout.layers.len().saturating_sub(1)
    );
    let inner_w = (columns as f64 * (box_w + GAP_X) - GAP_X).max(title.len() as f64 * CHAR_W);
    let width = inner_w + 2.0 * MARGIN;

    // Box centres, by graph index.
    let mut centre = vec![(0.0, 0.0); layout.depth.len()];
    let mut y = MARGIN + TITLE;
    for layer in &layout.layers {
        for (r, row) in layer.chunks(ROW).enumerate() {
            if r > 0 {
                y += BOX_H + GAP_ROW;
            }
            let row_w = row.len() as f64 * (box_w + GAP_X) - GAP_X;
            let x0 = MARGIN + (inner_w - row_w) / 2.0;
            for (i, k) in row.iter().enumerate() {
                centre[k.index()] = (
                    x0 + i as f64 * (box_w + GAP_X) + box_w / 2.0,
                    y + BOX_H / 2.0,
                );
            }
        }
        y += BOX_H + GAP_LAYER;
    }
    let height = y - GAP_LAYER + MARGIN;

    let mut out = header(width, height);
    let _ = writeln!(
        out,
        r#"<text class="title" x="{MARGIN}" y="{}">{title}</text>"#,
        MARGIN + 14.0,
    );
    out.push_str("<g class=\"edges\">\n");
    for k in layout.layers.iter().flatten().copied() {
        let (x2, y2) = centre[k.index()];
        for &dep in graph.dependencies(k) {
            if layout.depth[dep.index()] == u32::MAX {
                continue;
            }
            let (x1, y1) = centre[dep.index()];
            let (y1, y2) = (y1 + BOX_H / 2.0, y2 - BOX_H / 2.0 - 2.0);
            let bend = ((y2 - y1) / 2.0).max(12.0);
            let _ = writeln!(
                out,
                r#"<path class="edge" data-from="{}" data-to="{}" d="M{x1:.1},{y1:.1} C{x1:.1},{:.1} {x2:.1},{:.1} {x2:.1},{y2:.1}"/>"#,
                escape(graph.name(dep)),
                escape(graph.name(k)),
                y1 + bend,
                y2 - bend,
            );
        }
    }
    out.push_str("</g>\n<g class=\"nodes\">\n");
    for (d, layer) in layout.layers.iter().enumerate() {
        for &k in layer {
            let (cx, cy) = centre[k.index()];
            let (name, op) = label(k);
            let _ = writeln!(
                out,
                r#"<g class="node" data-key="{}" data-depth="{d}"><title>{}: {}</title><rect x="{:.1}" y="{:.1}" width="{box_w:.1}" height="{BOX_H}" rx="5"/><text x="{cx:.1}" y="{:.1}">{}</text><text class="op" x="{cx:.1}" y="{:.1}">{}</text></g>"#,
                escape(graph.name(k)),
                escape(graph.name(k)),
                escape(&graph.describe(k)),
                cx - box_w / 2.0,
                cy - BOX_H / 2.0,
                cy - 3.0,
                escape(&name),
                cy + 13.0,
                escape(&op),
            );
        }
    }
    out.push_str("</g>\n</svg>\n");
    out
}

/// One box per depth (or band of consecutive depths), with arrow counts between them.
fn summary(graph: &Graph, layout: &Layers, cull_hint: &str) -> String {
    let depths = layout.layers.len();
    let per_band = depths.div_ceil(MAX_BANDS).max(1);
    let bands: Vec<&[Vec<KeyId>]> = layout.layers.chunks(per_band).collect();
    let band_of = |k: KeyId| layout.depth[k.index()] as usize / per_band;
    let mut between: HashMap<(usize, usize), usize> = HashMap::new();
    for k in layout.layers.iter().flatten().copied() {
        for &dep in graph.dependencies(k) {
            if layout.depth[dep.index()] != u32::MAX && band_of(dep) != band_of(k) {
                *between.entry((band_of(dep), band_of(k))).or_default() += 1;
            }
        }
    }
    let box_w = 520.0;
    let width = box_w + 2.0 * MARGIN + 200.0;
    let step = BOX_H + GAP_LAYER;
    let height = MARGIN + TITLE + 24.0 + bands.len() as f64 * step - GAP_LAYER + MARGIN;
    let keys: usize = layout.layers.iter().map(Vec::len).sum();
    let mut out = header(width, height);
    let _ = writeln!(
        out,
        r#"<text class="title" x="{MARGIN}" y="{}">{}, {}: too many to draw one by one (at most {}), so one box per {}</text>"#,
        MARGIN + 14.0,
        counted(keys as u128, "key"),
        counted(layout.edges as u128, "arrow"),
        count(MAX_NODES as u128),
        if per_band == 1 {
            "depth".to_string()
        } else {
            format!("band of {} depths", count(per_band as u128))
        }
    );
    let _ = writeln!(
        out,
        r#"<text class="op" x="{MARGIN}" y="{}">Cull with {} to see single tasks.</text>"#,
        MARGIN + 34.0,
        escape(cull_hint)
    );
    let top = |b: usize| MARGIN + TITLE + 24.0 + b as f64 * step;
    let x = MARGIN;
    let mut arrows: Vec<_> = between.into_iter().collect();
    arrows.sort();
    for ((from, to), n) in arrows {
        // Arrows to the next band go straight down; longer ones bow out to the right.
        let (y1, y2) = (top(from) + BOX_H, top(to) - 2.0);
        let reach = box_w + 20.0 + 12.0 * (to - from - 1).min(12) as f64;
        let path = if to == from + 1 {
            format!(
                "M{:.1},{y1:.1} L{:.1},{y2:.1}",
                x + box_w / 2.0,
                x + box_w / 2.0
            )
        } else {
            format!(
                "M{:.1},{:.1} C{:.1},{:.1} {:.1},{:.1} {:.1},{:.1}",
                x + box_w,
                y1 - BOX_H / 2.0,
                x + reach,
                y1,
                x + reach,
                y2,
                x + box_w - 10.0,
                y2
            )
        };
        let _ = writeln!(
            out,
            r#"<path class="edge" data-count="{n}" d="{path}"><title>{}</title></path>"#,
            counted(n as u128, "arrow")
        );
        if to == from + 1 {
            let _ = writeln!(
                out,
                r#"<text class="op" x="{:.1}" y="{:.1}" text-anchor="start">{}</text>"#,
                x + box_w / 2.0 + 6.0,
                (y1 + y2) / 2.0 + 4.0,
                counted(n as u128, "arrow")
            );
        }
    }
    for (b, band) in bands.iter().enumerate() {
        let first = b * per_band;
        let last = first + band.len() - 1;
        let n: usize = band.iter().map(Vec::len).sum();
        let mut ops: HashMap<String, usize> = HashMap::new();
        for &k in band.iter().flatten() {
            *ops.entry(graph.describe(k)).or_default() += 1;
        }
        let mut ops: Vec<(String, usize)> = ops.into_iter().collect();
        ops.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let mut commonest: Vec<String> = ops
            .iter()
            .take(3)
            .map(|(op, n)| format!("{} ×{}", clip(op), count(*n as u128)))
            .collect();
        if ops.len() > 3 {
            commonest.push("…".to_string());
        }
        let depth = if first == last {
            format!("depth {first}")
        } else {
            format!("depths {first}–{last}")
        };
        let y = top(b);
        let _ = writeln!(
            out,
            r#"<g class="node band"><rect x="{x:.1}" y="{y:.1}" width="{box_w}" height="{BOX_H}" rx="5"/><text x="{:.1}" y="{:.1}">{depth}: {}</text><text class="op" x="{:.1}" y="{:.1}">{}</text></g>"#,
            x + box_w / 2.0,
            y + BOX_H / 2.0 - 3.0,
            counted(n as u128, "key"),
            x + box_w / 2.0,
            y + BOX_H / 2.0 + 13.0,
            escape(&commonest.join(", "))
        );
    }
    out.push_str("</svg>\n");
    out
}

/// The document head: size, arrowhead marker and styles shared by both pictures.
fn header(width: f64, height: f64) -> String {
    format!(
        r##"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}">
<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>
<style>
text {{ font-family: Helvetica, Arial, sans-serif; font-size: 12px; text-anchor: middle; fill: #111; }}
text.op {{ fill: #555; font-size: 11px; }}
text.title {{ text-anchor: start; font-size: 14px; }}
rect {{ fill: #eef3fb; stroke: #3a5f9f; stroke-width: 1.2; }}
path.edge {{ fill: none; stroke: #555; stroke-width: 1.1; marker-end: url(#arrow); }}
</style>
<rect x="0" y="0" width="{width:.0}" height="{height:.0}" style="fill: white; stroke: none"/>
"##
    )
}

/// A label cut to `LABEL_CHARS` characters (the full text is in the box's tooltip).
fn clip(text: &str) -> String {
    if text.chars().count() <= LABEL_CHARS {
        text.to_string()
    } else {
        let mut cut: String = text.chars().take(LABEL_CHARS - 1).collect();
        cut.push('…');
        cut
    }
}

/// Text safe inside XML content and attribute values (HTML too).
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters are not allowed in XML 1.0 at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use taskloom_graph::{cull, parse};

    fn svg_of(source: &str) -> (Graph, String) {
        let g = parse(source).unwrap();
        let keys: Vec<KeyId> = g.keys().collect();
        let svg = to_svg(&g, &keys, "a key");
        (g, svg)
    }

    #[test]
    fn boxes_are_labelled_layered_top_down_and_arrows_point_to_dependents() {
        let (_, svg) = svg_of("x = add(2, 3)\ny = add(x, 3)\nz = mul(x, y)\nw = \"a<&>\"\n");
        let doc = roxmltree::Document::parse(&svg).expect("well-formed");
        let nodes: HashMap<&str, (f64, u32)> = doc
            .descendants()
            .filter(|n| n.attribute("class") == Some("node"))
            .map(|n| {
                let rect = n.children().find(|c| c.has_tag_name("rect")).unwrap();
                let y: f64 = rect.attribute("y").unwrap().parse().unwrap();
                let depth = n.attribute("data-depth").unwrap().parse().unwrap();
                (n.attribute("data-key").unwrap(), (y, depth))
            })
            .collect();
        assert_eq!(nodes.len(), 4);
        assert_eq!(
            (nodes["x"].1, nodes["y"].1, nodes["z"].1, nodes["w"].1),
            (0, 1, 2, 0)
        );
        assert!(nodes["x"].0 < nodes["y"].0 && nodes["y"].0 < nodes["z"].0);
        let mut edges: Vec<(&str, &str)> = doc
            .descendants()
            .filter(|n| n.attribute("class") == Some("edge"))
            .map(|n| {
                (
                    n.attribute("data-from").unwrap(),
                    n.attribute("data-to").unwrap(),
                )
            })
            .collect();
        edges.sort();
        assert_eq!(edges, [("x", "y"), ("x", "z"), ("y", "z")]);
        assert!(svg.contains(">add</text>") && svg.contains(">mul</text>"));
        assert!(svg.contains(">string</text>"), "{svg}");
    }

    #[test]
    fn culled_keys_only() {
        let g = parse("a = 1\nb = inc(a)\nc = inc(b)\nd = neg(a)\n").unwrap();
        let svg = to_svg(&g, &cull(&g, &[g.key("b").unwrap()]), "a key");
        assert!(svg.contains(r#"data-key="b""#) && !svg.contains(r#"data-key="d""#));
        assert!(!svg.contains(r#"data-to="c""#));
    }

    #[test]
    fn barycentres_untangle_a_crossed_fan() {
        // Sources listed a, b; their consumers listed in the crossed order.
        let (_, svg) = svg_of("a = 1\nb = 2\nfb = inc(b)\nfa = inc(a)\n");
        let at = |k: &str| svg.find(&format!(r#"data-key="{k}""#)).unwrap();
        assert_eq!(at("a") < at("b"), at("fa") < at("fb"), "{svg}");
    }

    #[test]
    fn wide_layers_wrap_and_huge_graphs_are_summarised() {
        let mut src = String::from("root = 0\n");
        let parts: Vec<String> = (0..100).map(|i| format!("p{i}")).collect();
        for p in &parts {
            src.push_str(&format!("{p} = inc(root)\n"));
        }
        src.push_str(&format!("total = sum([{}])\n", parts.join(", ")));
        let (_, svg) = svg_of(&src);
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let width: f64 = doc
            .root_element()
            .attribute("width")
            .unwrap()
            .parse()
            .unwrap();
        assert!(width < 4000.0, "{width}");
        assert_eq!(svg.matches(r#"class="node""#).count(), 102);

        let mut big = String::from("c0 = 0\n");
        for i in 1..50_000 {
            big.push_str(&format!("c{i} = inc(c{})\n", i - 1));
        }
        let (_, svg) = svg_of(&big);
        roxmltree::Document::parse(&svg).expect("well-formed summary");
        assert!(svg.contains("50,000 keys"), "{}", &svg[..600]);
        assert!(svg.contains("too many to draw one by one"));
        assert!(svg.len() < 100_000, "{} bytes", svg.len());
        assert!(svg.matches("<g class=\"node band\"").count() <= MAX_BANDS);
    }

    #[test]
    fn labels_are_escaped_and_clipped() {
        assert_eq!(
            escape("a<b>&\"'\u{1}"),
            "a&lt;b&gt;&amp;&quot;&apos;\u{fffd}"
        );
        assert_eq!(clip(&"k".repeat(40)).chars().count(), LABEL_CHARS);
    }
}
