//! `argus synth`.

use argus_cdk::assembly::{Assembly, TemplateFormat};

use argus_stacks::app;

use crate::cli::{Failure, Format, SynthArgs};
use crate::ops::Context;

/// Synthesizes the selected stacks into the assembly folder and prints a summary.
pub fn run(context: &Context, args: &SynthArgs) -> Result<(), Failure> {
    let selection = args.selection(&context.config_dir)?;
    let stacks = app::synth(&context.config_dir, &selection)?;
    let format = match args.format {
        Format::Json => TemplateFormat::Json,
        Format::Yaml => TemplateFormat::Yaml,
    };
    let written = Assembly { stacks }.write(&context.out, format)?;
    let counts = written.report.counts();
    println!(
        "Synthesized {} stack(s) into {} (rule pack: {} errors, {} warnings, {} suppressed with reasons)",
        written.manifest.stacks.len(),
        context.out.display(),
        counts.errors,
        counts.warnings,
        counts.suppressed
    );
    for (name, stack) in &written.manifest.stacks {
        println!(
            "  {name:<15} {:>3} resources  {:>7} bytes  {}",
            stack.resources,
            stack.template_bytes,
            context.out.join(&stack.template_file).display()
        );
    }
    println!(
        "Rule report: {}",
        context.out.join("rules-report.txt").display()
    );
    Ok(())
}
