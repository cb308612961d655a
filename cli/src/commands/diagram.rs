//! `argus diagram`.

use std::io::Write;
use std::path::Path;

use crate::cli::{Failure, TargetArgs};
use crate::ops::Context;
use crate::ops::diagram::{self, DiagramFormat};

/// `argus diagram` options.
#[derive(Debug, clap::Args)]
pub struct DiagramArgs {
    /// The stack to draw.
    #[command(flatten)]
    pub target: TargetArgs,
    /// The drawing format.
    #[arg(long, value_enum, default_value_t = DiagramFormat::Svg)]
    pub format: DiagramFormat,
}

/// Synthesizes the stack and writes its drawing to `out` (the global `--out`, a file here), or
/// to stdout when `out` is `None`.
///
/// # Errors
/// As [`diagram::synthesize`]; exit code 1 when the file (named in the message) or stdout cannot
/// be written (a closed pipe on stdout is not an error).
pub fn run(context: &Context, args: &DiagramArgs, out: Option<&Path>) -> Result<(), Failure> {
    let stack = diagram::synthesize(&context.config_dir, &args.target)?;
    let drawing = diagram::draw(&stack, args.format)?;
    match out {
        Some(file) => {
            let parent = file.parent().filter(|p| !p.as_os_str().is_empty());
            parent
                .map(std::fs::create_dir_all)
                .transpose()
                .and_then(|_| std::fs::write(file, drawing))
                .map_err(|e| {
                    Failure::new(
                        1,
                        format!("cannot write the diagram to {}: {e}", file.display()),
                    )
                })
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            match stdout
                .write_all(drawing.as_bytes())
                .and_then(|()| stdout.flush())
            {
                // A reader that stops early (`argus diagram | head`) is not a failure.
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Failure::new(
                    1,
                    format!("cannot write the diagram to stdout: {e}"),
                )),
                _ => Ok(()),
            }
        }
    }
}
