//! The terminal: the CLI's [`Reporter`] for the toolkit. Info lines go to stdout; progress is an
//! indicatif bar on stderr when it is a terminal and plain lines otherwise (CI logs); questions
//! are a `[y/N]` prompt on a terminal, and [`Answer::NoOneToAsk`] without one.

use std::io::{BufRead, IsTerminal, Write};
use std::time::Duration;

use argus_toolkit::report::{Answer, Progress, Reporter};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The CLI's reporter: stdout, stderr and stdin of this process.
#[derive(Clone, Copy, Debug, Default)]
pub struct Terminal;

impl Reporter for Terminal {
    fn info(&self, line: &str) {
        println!("{line}");
    }

    fn progress(&self, total: u64, prefix: &str) -> Box<dyn Progress> {
        Box::new(Bar::new(total, prefix))
    }

    fn confirm(&self, question: &str) -> std::io::Result<Answer> {
        if !std::io::stdin().is_terminal() {
            return Ok(Answer::NoOneToAsk);
        }
        print!("{question} [y/N] ");
        std::io::stdout().flush()?;
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        Ok(if matches!(answer.trim(), "y" | "Y" | "yes") {
            Answer::Yes
        } else {
            Answer::No
        })
    }
}

/// A progress bar over `total` steps (resources, files, …), drawn on stderr when it is a
/// terminal, hidden otherwise; event lines are printed either way.
pub struct Bar {
    bar: ProgressBar,
}

impl Bar {
    /// A bar of `total` steps with a prefix such as the stack name.
    pub fn new(total: u64, prefix: &str) -> Self {
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        let style =
            ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {wide_msg} {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(prefix.to_owned());
        bar.enable_steady_tick(Duration::from_millis(200));
        Bar { bar }
    }
}

impl Progress for Bar {
    fn line(&self, text: &str) {
        if self.bar.is_hidden() {
            println!("{text}");
        } else {
            self.bar.println(text);
        }
    }

    fn inc(&self) {
        self.bar.inc(1);
    }

    fn message(&self, text: &str) {
        self.bar.set_message(text.to_owned());
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}
