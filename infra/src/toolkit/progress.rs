//! Progress display for long waits: an indicatif bar on a terminal, plain lines otherwise (CI
//! logs), with every event line printed either way.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A progress display over `total` steps (resources, files, …).
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// A bar of `total` steps with a prefix such as the stack name. Drawn on stderr when it is a
    /// terminal, hidden otherwise.
    pub fn new(total: u64, prefix: &str) -> Self {
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        let style =
            ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {wide_msg} {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(prefix.to_owned());
        bar.enable_steady_tick(Duration::from_millis(200));
        Progress { bar }
    }

    /// Prints one line above the bar (or plainly when there is no bar).
    pub fn line(&self, text: &str) {
        if self.bar.is_hidden() {
            println!("{text}");
        } else {
            self.bar.println(text);
        }
    }

    /// Advances by one step.
    pub fn inc(&self) {
        self.bar.inc(1);
    }

    /// Sets the message shown beside the bar.
    pub fn message(&self, text: &str) {
        self.bar.set_message(text.to_owned());
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}
