//! How the toolkit talks to its user: a [`Reporter`] the caller implements, as the AWS CDK
//! toolkit's `IIoHost`. The toolkit never prints or reads standard input itself: the `argus` CLI
//! implements [`Reporter`] with a terminal (indicatif bars, a y/N prompt); a library user or a
//! test can collect the messages with [`Recorder`].

use std::sync::{Arc, Mutex};

/// The answer to a yes/no question.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// The user said yes.
    Yes,
    /// The user said no (or anything but yes).
    No,
    /// Nobody can be asked (no terminal: CI, a pipe).
    NoOneToAsk,
}

/// A progress display over a known number of steps (resources, objects, …).
pub trait Progress: Send + Sync {
    /// One event line, shown above the bar (or plainly when there is none).
    fn line(&self, text: &str);
    /// One step done.
    fn inc(&self);
    /// The message beside the bar (the latest status).
    fn message(&self, text: &str);
    /// The wait is over: remove the display.
    fn finish(&self);
}

/// Where the toolkit sends what a user should see, and how it asks.
pub trait Reporter: Send + Sync {
    /// One line of information: a status, a planned change, an output.
    fn info(&self, line: &str);
    /// Starts a progress display of `total` steps, labelled `prefix` (a stack name).
    fn progress(&self, total: u64, prefix: &str) -> Box<dyn Progress>;
    /// Asks a yes/no question (`question` ends without `[y/N]`; the reporter adds its own).
    ///
    /// # Errors
    /// The I/O error reading the answer.
    fn confirm(&self, question: &str) -> std::io::Result<Answer>;
}

/// A [`Reporter`] that keeps every line in memory and answers every question the same way: for
/// tests and for library users that show the messages themselves.
#[derive(Debug)]
pub struct Recorder {
    lines: Arc<Mutex<Vec<String>>>,
    answer: Answer,
}

impl Recorder {
    /// A recorder that answers every question with `answer`.
    pub fn new(answer: Answer) -> Self {
        Recorder {
            lines: Arc::default(),
            answer,
        }
    }

    /// Every line so far: info lines, progress lines, and questions as `? <question>`.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

impl Default for Recorder {
    /// Answers [`Answer::NoOneToAsk`], as a run without a terminal.
    fn default() -> Self {
        Recorder::new(Answer::NoOneToAsk)
    }
}

fn push(lines: &Mutex<Vec<String>>, line: String) {
    if let Ok(mut lines) = lines.lock() {
        lines.push(line);
    }
}

impl Reporter for Recorder {
    fn info(&self, line: &str) {
        push(&self.lines, line.to_owned());
    }

    fn progress(&self, _total: u64, _prefix: &str) -> Box<dyn Progress> {
        Box::new(RecordedProgress(Arc::clone(&self.lines)))
    }

    fn confirm(&self, question: &str) -> std::io::Result<Answer> {
        push(&self.lines, format!("? {question}"));
        Ok(self.answer)
    }
}

/// The progress lines of a [`Recorder`].
struct RecordedProgress(Arc<Mutex<Vec<String>>>);

impl Progress for RecordedProgress {
    fn line(&self, text: &str) {
        push(&self.0, text.to_owned());
    }
    fn inc(&self) {}
    fn message(&self, _text: &str) {}
    fn finish(&self) {}
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_recorder_keeps_lines_in_order_and_answers_as_told() {
        let recorder = Recorder::new(Answer::No);
        recorder.info("one");
        let progress = recorder.progress(3, "stack");
        progress.line("two");
        assert_eq!(recorder.confirm("go?").unwrap(), Answer::No);
        assert_eq!(recorder.lines(), ["one", "two", "? go?"]);
        assert_eq!(
            Recorder::default().confirm("x").unwrap(),
            Answer::NoOneToAsk
        );
    }
}
