//! `argus diagram`: the architecture drawing of a synthesized stack.
//!
//! - [`graph`]: the graph model (nodes, edges, edge kinds) read from a template;
//! - [`render`]: SVG (layout-rs), Graphviz DOT and Mermaid renderings of a graph.
//!
//! Nothing here reaches AWS or writes the cloud assembly: the stack is synthesized in memory.

pub mod graph;
pub mod render;

use std::path::Path;

use argus_cdk::stack::SynthesizedStack;

use self::graph::Graph;
use crate::cli::{Failure, TargetArgs};
use crate::ops::ACCOUNT_STACK_REGION_STAGE;
use argus_stacks::app;

/// A drawing format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DiagramFormat {
    /// SVG, laid out by layout-rs (the default).
    Svg,
    /// Graphviz DOT text (`dot -Tsvg` draws it, with a cluster per service).
    Dot,
    /// A Mermaid flowchart (GitHub renders it in Markdown), with a subgraph per service.
    Mermaid,
}

/// Synthesizes the stack `target` names (rule pack included; nothing is written) and returns it.
///
/// # Errors
/// [`Failure`] with exit code 2 for an unknown stage or stack or an invalid config, 1 when the
/// rule pack or a construct refuses the stack.
pub fn synthesize(config_dir: &Path, target: &TargetArgs) -> Result<SynthesizedStack, Failure> {
    let selection = target.selection(config_dir)?;
    let target = app::target(config_dir, &selection, ACCOUNT_STACK_REGION_STAGE)?;
    Ok(target.stack.synth()?)
}

/// The drawing of a synthesized stack in `format`.
///
/// # Errors
/// [`Failure`] (exit code 1) when the template cannot be rendered as JSON.
pub fn draw(stack: &SynthesizedStack, format: DiagramFormat) -> Result<String, Failure> {
    let template = stack.template.to_value()?;
    let graph = Graph::from_template(&template);
    Ok(match format {
        DiagramFormat::Svg => render::svg(&graph),
        DiagramFormat::Dot => render::dot(&graph, &stack.name),
        DiagramFormat::Mermaid => render::mermaid(&graph),
    })
}
