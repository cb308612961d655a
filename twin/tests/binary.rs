//! The `argus-twin` binary: start on a free port, answer, take fault flags, refuse a
//! non-loopback host, stop on SIGTERM. Every process started here is stopped here by PID.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use argus_twin::process::{StopOutcome, is_alive, stop_pid_with};
use common::*;

/// Stops the child by PID when dropped, so a failed check leaves nothing running.
struct Running(Option<Child>);

impl Running {
    /// Stops the process (SIGTERM, SIGKILL after 10 s) and returns how, with its exit status.
    fn stop(&mut self) -> (StopOutcome, Option<ExitStatus>) {
        let Some(mut child) = self.0.take() else {
            return (StopOutcome::AlreadyGone, None);
        };
        let mut status = None;
        let outcome = stop_pid_with(child.id(), Duration::from_secs(10), || {
            match child.try_wait() {
                Ok(Some(s)) => {
                    status = Some(s);
                    true
                }
                Ok(None) => false,
                Err(_) => true,
            }
        })
        .unwrap();
        (outcome, status)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.0.is_some() {
            self.stop();
        }
    }
}

fn command() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_argus-twin"));
    cmd.env_remove("ARGUS_TWIN_PORT")
        .env_remove("ARGUS_TWIN_FIXTURES")
        .env("RUST_LOG", "warn");
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_serves_on_the_printed_port_and_stops_on_sigterm() {
    let mut running = Running(Some(
        command()
            .args([
                "--port",
                "0",
                "--s3-endpoint",
                "http://127.0.0.1:9",
                "--throttle-next",
                "1",
                // Fixtures are an override the binary takes only when asked.
                "--fixtures",
                concat!(env!("CARGO_MANIFEST_DIR"), "/../samples/fixtures"),
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    ));
    let child = running.0.as_mut().unwrap();
    let pid = child.id();
    let stdout = child.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        line
    })
    .await
    .unwrap();
    let endpoint = line
        .trim()
        .strip_prefix("argus-twin listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    assert!(endpoint.starts_with("http://127.0.0.1:"));

    let health = raw(
        "GET",
        format!("{endpoint}/_argus/health"),
        vec![],
        String::new(),
    )
    .await;
    assert_eq!(health.body["fixtures"], 9);
    let client = rekognition(&endpoint);
    let out = client
        .detect_labels()
        .image(sample_image("coffee.png"))
        .send()
        .await
        .unwrap();
    assert!(out.labels().iter().any(|l| l.name() == Some("Coffee Cup")));
    let calls = raw(
        "GET",
        format!("{endpoint}/_argus/calls"),
        vec![],
        String::new(),
    )
    .await;
    assert_eq!(calls.body["calls"][0]["outcome"], "ThrottlingException");
    assert_eq!(calls.body["calls"][1]["outcome"], "OK");

    let outcome = tokio::task::spawn_blocking(move || running.stop())
        .await
        .unwrap();
    assert_eq!(outcome.0, StopOutcome::Terminated);
    assert!(outcome.1.unwrap().success(), "SIGTERM is a clean stop");
    assert!(!is_alive(pid));
}

#[test]
fn the_binary_refuses_a_non_loopback_host() {
    let out = command()
        .args(["--host", "0.0.0.0", "--port", "0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("127.0.0.1 only"), "{stderr}");
}

#[test]
fn the_binary_reports_a_bad_fixtures_folder() {
    let out = command()
        .args(["--port", "0", "--fixtures", "/nonexistent/fixtures"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("/nonexistent/fixtures"), "{stderr}");
}

#[test]
fn a_missing_model_file_is_a_clear_error_naming_it_and_make_models() {
    let empty = tempfile::tempdir().unwrap();
    let out = command()
        .args(["--port", "0", "--models"])
        .arg(empty.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("onnxruntime/libonnxruntime.so.1.32.0")
            && err.contains("missing")
            && err.contains("make models"),
        "{err}"
    );
}

/// Starts the binary on a copy of the models folder (symlinks) where `file` holds garbage;
/// returns its exit status and standard error.
fn start_with_a_corrupt(file: &str) -> (std::process::ExitStatus, String) {
    let models = argus_twin::vision::models_dir();
    let dir = tempfile::tempdir().unwrap();
    for line in argus_twin::vision::MANIFEST.lines() {
        let Some((_, name)) = line.split_once("  ") else {
            continue;
        };
        if line.starts_with('#') {
            continue;
        }
        let link = dir.path().join(name);
        std::fs::create_dir_all(link.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(models.join(name), link).unwrap();
    }
    std::fs::remove_file(dir.path().join(file)).unwrap();
    std::fs::write(dir.path().join(file), b"not a model").unwrap();
    let out = command()
        .args(["--port", "0", "--models"])
        .arg(dir.path())
        .output()
        .unwrap();
    (
        out.status,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_corrupt_model_file_is_a_clear_error_naming_it_and_make_models() {
    let (status, err) = start_with_a_corrupt("faces/pnet.onnx");
    assert!(!status.success());
    assert!(
        err.contains("faces/pnet.onnx") && err.contains("corrupt") && err.contains("make models"),
        "{err}"
    );
}

#[test]
fn a_corrupt_face_embedding_is_a_clear_start_up_error_naming_it_and_make_models() {
    let (status, err) = start_with_a_corrupt("faces/face-embedding.onnx");
    assert!(!status.success());
    assert!(
        err.contains("faces/face-embedding.onnx")
            && err.contains("corrupt")
            && err.contains("make models"),
        "{err}"
    );
}
