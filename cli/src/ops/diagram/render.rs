//! Renderings of a [`Graph`]: SVG (laid out by `layout-rs`, a Graphviz-like layered layout in
//! pure Rust), Graphviz DOT and Mermaid flowchart text.
//!
//! In every format a node is labelled with its logical ID and resource type, and grants are
//! dashed while the other edges are solid. DOT and Mermaid group the nodes by service in
//! clusters / subgraphs; layout-rs has no clusters, so the SVG groups them by colour (one fill per
//! service) and puts each node in a `<g class="node" data-service="S3">` element. SVG nodes and
//! edges carry their identity as attributes (`data-logical-id`; `data-from`, `data-to`,
//! `data-kind`) so tools and tests can read the drawing back.

use layout::backends::svg::SVGWriter;
use layout::core::base::Orientation;
use layout::core::color::Color;
use layout::core::geometry::Point;
use layout::core::style::{LineStyleKind, StyleAttr};
use layout::std_shapes::shapes::{Arrow, Element, LineEndKind, ShapeKind};
use layout::topo::layout::VisualGraph;

use super::graph::{Graph, service_title};

/// Font size of every text in the SVG, in pixels (one size keeps layout-rs' style sheet, which it
/// keeps in a hash map, in one deterministic order).
const FONT_SIZE: usize = 14;

/// Height added to each node box beyond what layout-rs computes for its two lines, in pixels.
const NODE_EXTRA_HEIGHT: f64 = 8.;

/// The fill of a service's nodes in the SVG (light tints, readable with black text).
fn service_fill(service: &str) -> &'static str {
    match service {
        "S3" => "#d9f2d0",
        "SQS" => "#fde2c8",
        "Lambda" => "#ffe8a3",
        "DynamoDB" => "#d6e4ff",
        "SNS" => "#f8d4e4",
        "IAM" => "#ffd6d6",
        "ApiGatewayV2" | "ApiGateway" => "#e6dcff",
        "Logs" => "#d4f1f4",
        "CloudWatch" => "#e0f0e8",
        "KMS" => "#eeeeee",
        "CloudTrail" => "#f3ecd8",
        _ => "#ffffff",
    }
}

/// The colour of an edge of this kind in the SVG.
fn edge_colour(kind: super::graph::EdgeKind) -> &'static str {
    use super::graph::EdgeKind;
    match kind {
        EdgeKind::Reference => "#555555",
        EdgeKind::EventSource => "#c05800",
        EdgeKind::Notification => "#2e7d32",
        EdgeKind::Grant => "#b00020",
    }
}

/// The graph as an SVG document (UTF-8 XML, with its `<?xml …?>` declaration), laid out top to
/// bottom by layout-rs. The same graph always gives the same bytes.
pub fn svg(graph: &Graph) -> String {
    let mut visual = VisualGraph::new(Orientation::TopToBottom);
    let mut handles = std::collections::BTreeMap::new();
    for node in &graph.nodes {
        let text = format!("{}\n{}", node.logical_id, node.resource_type);
        let shape = ShapeKind::new_box(&text);
        let look = StyleAttr::new(
            Color::fast("black"),
            1,
            Some(Color::fast(service_fill(node.service()))),
            4,
            FONT_SIZE,
        );
        // layout-rs sizes a box for its text; a little more height keeps two lines off the border.
        let size = layout::std_shapes::render::get_shape_size(
            Orientation::TopToBottom,
            &shape,
            FONT_SIZE,
            false,
        )
        .add(Point::new(0., NODE_EXTRA_HEIGHT));
        let properties = format!(
            "class=\"node\" data-logical-id=\"{}\" data-type=\"{}\" data-service=\"{}\"",
            xml_escape(&node.logical_id),
            xml_escape(&node.resource_type),
            xml_escape(service_title(node.service())),
        );
        let element = Element::create_with_properties(
            shape,
            look,
            Orientation::TopToBottom,
            size,
            properties,
        );
        handles.insert(node.logical_id.as_str(), visual.add_node(element));
    }
    for edge in &graph.edges {
        let (Some(from), Some(to)) = (
            handles.get(edge.from.as_str()),
            handles.get(edge.to.as_str()),
        ) else {
            continue;
        };
        let style = if edge.kind.is_dashed() {
            LineStyleKind::Dashed
        } else {
            LineStyleKind::Normal
        };
        let look = StyleAttr::new(Color::fast(edge_colour(edge.kind)), 1, None, 0, FONT_SIZE);
        let properties = format!(
            "class=\"edge\" data-from=\"{}\" data-to=\"{}\" data-kind=\"{}\"",
            xml_escape(&edge.from),
            xml_escape(&edge.to),
            edge.kind.name(),
        );
        let arrow = Arrow::with_properties(
            LineEndKind::None,
            LineEndKind::Arrow,
            style,
            &edge.label,
            &look,
            properties,
            &None,
            &None,
        );
        visual.add_edge(arrow, *from, *to);
    }
    let mut writer = SVGWriter::new();
    if !graph.nodes.is_empty() {
        visual.do_it(false, false, false, &mut writer);
    }
    writer.finalize()
}

/// The graph as Graphviz DOT: one `cluster_<service>` subgraph per service, nodes labelled
/// `"<logical ID>\n<type>"`, grants `style=dashed`. `dot -Tsvg` draws it.
pub fn dot(graph: &Graph, name: &str) -> String {
    let mut out = format!(
        "digraph {} {{\n  rankdir=TB;\n  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\"];\n  edge [fontname=\"Helvetica\", fontsize=10];\n",
        dot_quote(name)
    );
    for (service, nodes) in graph.services() {
        out.push_str(&format!(
            "  subgraph {} {{\n    label={};\n    style=rounded;\n",
            dot_quote(&format!("cluster_{service}")),
            dot_quote(service_title(service))
        ));
        for node in nodes {
            out.push_str(&format!(
                "    {} [label={}, fillcolor={}];\n",
                dot_quote(&node.logical_id),
                dot_quote(&format!("{}\n{}", node.logical_id, node.resource_type)),
                dot_quote(service_fill(service))
            ));
        }
        out.push_str("  }\n");
    }
    for edge in &graph.edges {
        let style = if edge.kind.is_dashed() {
            "dashed"
        } else {
            "solid"
        };
        out.push_str(&format!(
            "  {} -> {} [label={}, style={style}, color={}, class={}];\n",
            dot_quote(&edge.from),
            dot_quote(&edge.to),
            dot_quote(&edge.label),
            dot_quote(edge_colour(edge.kind)),
            dot_quote(edge.kind.name())
        ));
    }
    out.push_str("}\n");
    out
}

/// The graph as a Mermaid flowchart: one `subgraph` per service, nodes
/// `Id["Id<br/>AWS::…"]`, references `-->`, grants `-.->`, labels quoted.
pub fn mermaid(graph: &Graph) -> String {
    let mut out = String::from("flowchart TB\n");
    for (service, nodes) in graph.services() {
        out.push_str(&format!(
            "  subgraph service_{}[\"{}\"]\n",
            mermaid_id(service),
            mermaid_text(service_title(service))
        ));
        for node in nodes {
            out.push_str(&format!(
                "    {}[\"{}<br/>{}\"]\n",
                mermaid_id(&node.logical_id),
                mermaid_text(&node.logical_id),
                mermaid_text(&node.resource_type)
            ));
        }
        out.push_str("  end\n");
    }
    for edge in &graph.edges {
        let arrow = if edge.kind.is_dashed() { "-.->" } else { "-->" };
        let label = if edge.label.is_empty() {
            String::new()
        } else {
            format!("|\"{}\"|", mermaid_text(&edge.label))
        };
        out.push_str(&format!(
            "  {} {arrow}{label} {}\n",
            mermaid_id(&edge.from),
            mermaid_id(&edge.to)
        ));
    }
    out
}

/// A DOT quoted string (`"` and `\` escaped, a newline as DOT's `\n` line break).
fn dot_quote(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            other => out.push(other),
        }
    }
    out.push('"');
    out
}

/// A Mermaid node ID: letters, digits and `_` kept, anything else `_` (logical IDs are already
/// alphanumeric).
fn mermaid_id(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// Text inside a quoted Mermaid label: `"` written as Mermaid's `#quot;` entity.
fn mermaid_text(text: &str) -> String {
    text.replace('"', "#quot;")
}

/// Text for an XML attribute value.
fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::ops::diagram::graph::{Edge, EdgeKind, Node};

    fn graph() -> Graph {
        Graph {
            nodes: vec![
                Node {
                    logical_id: "Ingest".into(),
                    resource_type: "AWS::SQS::Queue".into(),
                },
                Node {
                    logical_id: "Role".into(),
                    resource_type: "AWS::IAM::Role".into(),
                },
            ],
            edges: vec![Edge {
                from: "Role".into(),
                to: "Ingest".into(),
                kind: EdgeKind::Grant,
                label: "IngestConsume".into(),
            }],
        }
    }

    #[test]
    fn dot_clusters_nodes_by_service_and_dashes_grants() {
        let text = dot(&graph(), "app");
        assert!(text.starts_with("digraph \"app\" {"), "{text}");
        assert!(
            text.contains("subgraph \"cluster_SQS\" {\n    label=\"SQS\";"),
            "{text}"
        );
        assert!(
            text.contains("\"Ingest\" [label=\"Ingest\\nAWS::SQS::Queue\""),
            "{text}"
        );
        assert!(
            text.contains("\"Role\" -> \"Ingest\" [label=\"IngestConsume\", style=dashed"),
            "{text}"
        );
    }

    #[test]
    fn dot_output_parses_as_dot() {
        // layout-rs's own DOT parser (the Graphviz grammar: subgraphs, attribute lists, quoted IDs).
        let text = dot(&graph(), "app \"quoted\"");
        let parsed = layout::gv::DotParser::new(&text).process();
        assert!(parsed.is_ok(), "{:?}\n{text}", parsed.err());
    }

    #[test]
    fn mermaid_has_a_subgraph_per_service_and_a_dotted_arrow_for_a_grant() {
        let text = mermaid(&graph());
        assert!(text.starts_with("flowchart TB\n"));
        assert!(
            text.contains(
                "  subgraph service_IAM[\"IAM\"]\n    Role[\"Role<br/>AWS::IAM::Role\"]\n  end\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("  Role -.->|\"IngestConsume\"| Ingest\n"),
            "{text}"
        );
    }

    #[test]
    fn svg_carries_each_node_and_edge_with_its_identity() {
        let text = svg(&graph());
        let document = roxmltree::Document::parse(&text).unwrap();
        let nodes: Vec<&str> = document
            .descendants()
            .filter_map(|n| n.attribute("data-logical-id"))
            .collect();
        assert_eq!(nodes, vec!["Ingest", "Role"]);
        let edge = document
            .descendants()
            .find(|n| n.attribute("data-kind") == Some("grant"))
            .unwrap();
        assert_eq!(edge.attribute("data-from"), Some("Role"));
        assert_eq!(edge.attribute("data-to"), Some("Ingest"));
        let path = edge.descendants().find(|n| n.has_tag_name("path")).unwrap();
        assert!(path.attribute("stroke-dasharray").is_some());
        assert!(text.contains("IngestConsume"));
    }

    #[test]
    fn an_empty_graph_is_still_an_svg_document() {
        let text = svg(&Graph::default());
        let document = roxmltree::Document::parse(&text).unwrap();
        assert!(document.root_element().has_tag_name("svg"));
    }
}
