//! `argus deploy --hotswap` and `argus watch` on the local twin: the local stage deployed with a
//! change set, then changed. A code and environment change is hotswapped through the Lambda API
//! with no new change set and the next upload shows it; a change to anything else in the same
//! run falls back to a change set naming the property; `argus watch` hotswaps a saved config
//! change and stops on SIGINT. One twin for this file; the tests take turns.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::pipeline::Twin;

static TWIN: OnceLock<Twin> = OnceLock::new();
static TURN: Mutex<()> = Mutex::new(());

fn turn() -> (&'static Twin, MutexGuard<'static, ()>) {
    let guard = TURN.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    (TWIN.get_or_init(|| crate::pipeline::start_with(&[])), guard)
}

fn argus(twin: &Twin, args: &[&str]) -> Command {
    let mut command = crate::common::argus_on(&twin.endpoint);
    command
        .args(args)
        .arg("--config-dir")
        .arg(twin.config.path())
        .arg("--out")
        .arg(twin.out.path());
    command
}

fn run(twin: &Twin, args: &[&str]) -> String {
    let o = argus(twin, args).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "argus {args:?} failed:\n{text}");
    text
}

/// Replaces `from` by `to` in the twin's local.toml (`from` must be there).
fn edit_config(twin: &Twin, from: &str, to: &str) {
    let path = twin.config.path().join("local.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "local.toml has no {from:?}");
    std::fs::write(&path, text.replace(from, to)).unwrap();
}

/// The `max_labels = N` line of the twin's local.toml.
fn max_labels_line(twin: &Twin) -> String {
    std::fs::read_to_string(twin.config.path().join("local.toml"))
        .unwrap()
        .lines()
        .find(|l| l.starts_with("max_labels = "))
        .unwrap()
        .to_owned()
}

/// Every change set of argus-local: (name, execution status).
fn change_sets(twin: &Twin) -> Vec<(String, String)> {
    let cfn = aws_sdk_cloudformation::Client::new(&twin.sdk);
    let listed = twin
        .runtime
        .block_on(cfn.list_change_sets().stack_name("argus-local").send())
        .unwrap();
    listed
        .summaries()
        .iter()
        .map(|c| {
            (
                c.change_set_name().unwrap_or_default().to_owned(),
                c.execution_status()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
            )
        })
        .collect()
}

/// The processor's (CodeSha256, ARGUS_MAX_LABELS) as Lambda describes it.
fn processor_state(twin: &Twin) -> (String, String) {
    let lambda = aws_sdk_lambda::Client::new(&twin.sdk);
    let c = twin
        .runtime
        .block_on(
            lambda
                .get_function_configuration()
                .function_name("argus-local-processor")
                .send(),
        )
        .unwrap();
    let max_labels = c
        .environment()
        .and_then(|e| e.variables())
        .and_then(|v| v.get("ARGUS_MAX_LABELS"))
        .cloned()
        .unwrap_or_default();
    (c.code_sha256().unwrap_or_default().to_owned(), max_labels)
}

/// The labels of a processed upload of `sample` under a fresh key.
fn labels_of_an_upload(twin: &Twin, sample: &str, tag: &str) -> Vec<Value> {
    let key = format!("incoming/hotswap-{tag}-{sample}");
    let bytes = std::fs::read(crate::common::root().join("samples").join(sample)).unwrap();
    twin.upload(&key, bytes);
    let record = twin.wait_record(&key, Duration::from_secs(120));
    assert_eq!(record["status"], "PROCESSED", "{record}");
    record["labels"].as_array().cloned().unwrap_or_default()
}

/// The same `bootstrap` as `zip`, stored with another timestamp: other bytes, so another asset
/// key and another CodeSha256, as a rebuilt bundle gives.
fn rezipped(zip_path: &std::path::Path) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut archive = zip::ZipArchive::new(std::fs::File::open(zip_path).unwrap()).unwrap();
    let mut binary = Vec::new();
    archive
        .by_name("bootstrap")
        .unwrap()
        .read_to_end(&mut binary)
        .unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .unix_permissions(0o755)
        .last_modified_time(zip::DateTime::from_date_and_time(2001, 2, 3, 4, 5, 6).unwrap());
    out.start_file("bootstrap", options).unwrap();
    out.write_all(&binary).unwrap();
    out.finish().unwrap().into_inner()
}

fn base64_sha256(bytes: &[u8]) -> String {
    argus_toolkit::assets::sha256_base64(bytes)
}

#[test]
fn hotswap_updates_code_and_environment_without_a_change_set_and_falls_back_for_the_rest() {
    let (twin, _turn) = turn();
    // Before: the processor keeps up to 20 labels; the sample gives several.
    let before = labels_of_an_upload(twin, "chelsea.png", "before");
    assert!(before.len() > 1, "{before:?}");
    let change_sets_before = change_sets(twin);

    // A rebuilt bundle (other bytes) and another ARGUS_MAX_LABELS.
    let zip = twin.out.path().join("assets/processor-x86_64.zip");
    let new_zip = rezipped(&zip);
    std::fs::write(&zip, &new_zip).unwrap();
    let line = max_labels_line(twin);
    edit_config(twin, &line, "max_labels = 1");
    let started = Instant::now();
    let log = run(
        twin,
        &[
            "deploy",
            "--stage",
            "local",
            "--hotswap",
            "--require-approval",
            "never",
        ],
    );
    let took = started.elapsed();
    assert!(
        log.contains("argus-local: hotswapped Processor (argus-local-processor)")
            && log.contains("Environment (ARGUS_MAX_LABELS)")
            && log.contains("code s3://argus-assets-"),
        "{log}"
    );
    assert!(log.contains("drifts from its template"), "{log}");
    assert!(
        !log.contains("change set argus-") && !log.contains("(UPDATE)"),
        "{log}"
    );
    let done = log
        .lines()
        .find(|l| l.contains("hotswap done in"))
        .unwrap_or_else(|| panic!("{log}"));
    eprintln!("measured: {done}; the whole `argus deploy --hotswap` took {took:?}");
    // No change set was created, and Lambda runs the new code and environment.
    assert_eq!(change_sets(twin), change_sets_before);
    assert_eq!(
        processor_state(twin),
        (base64_sha256(&new_zip), "1".to_owned())
    );
    // The next upload shows the new behaviour.
    let after = labels_of_an_upload(twin, "chelsea.png", "after");
    assert_eq!(after.len(), 1, "{after:?}");
    // Hotswapping again finds the same code and environment: nothing to do.
    let again = run(twin, &["deploy", "--stage", "local", "--hotswap"]);
    assert!(
        again.contains("hotswapped Processor") || again.contains("no changes"),
        "{again}"
    );

    // Another ARGUS_MAX_LABELS together with a log retention (a LogGroup property): a change set.
    edit_config(twin, "max_labels = 1", "max_labels = 2");
    edit_config(twin, "log_retention_days = 7", "log_retention_days = 14");
    let log = run(
        twin,
        &[
            "deploy",
            "--stage",
            "local",
            "--hotswap",
            "--require-approval",
            "never",
        ],
    );
    assert!(
        log.contains("cannot hotswap; deploying through a change set, because:")
            && log.contains("(AWS::Logs::LogGroup): Properties.RetentionInDays changed"),
        "{log}"
    );
    assert!(
        log.contains("(UPDATE)") && log.contains("argus-local: UPDATE_COMPLETE"),
        "{log}"
    );
    assert!(!log.contains("hotswapped"), "{log}");
    // A change set this run created was executed (MiniStack lists only the stack's latest one).
    let sets = change_sets(twin);
    assert!(
        sets.iter()
            .any(|(name, status)| status == "EXECUTE_COMPLETE"
                && !change_sets_before.iter().any(|(before, _)| before == name)),
        "{sets:?} (before: {change_sets_before:?})"
    );
    assert_eq!(processor_state(twin).1, "2");
    // The full deploy ended the drift: the stack records what Lambda runs.
    let o = argus(twin, &["diff", "--stage", "local"]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{o:?}");
}

#[test]
fn hotswap_is_refused_for_a_protected_stage_without_force() {
    let (twin, _turn) = turn();
    edit_config(twin, "protected = false", "protected = true");
    let o = argus(twin, &["deploy", "--stage", "local", "--hotswap"])
        .output()
        .unwrap();
    edit_config(twin, "protected = true", "protected = false");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("argus-local is a protected stage") && err.contains("--force"),
        "{err}"
    );
}

#[test]
fn watch_hotswaps_a_saved_change_and_stops_on_sigint() {
    let (twin, _turn) = turn();
    let mut child = argus(
        twin,
        &["watch", "--stage", "local", "--require-approval", "never"],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let (lines, received) = std::sync::mpsc::channel::<String>();
    for stream in [
        Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
        Box::new(child.stderr.take().unwrap()),
    ] {
        let lines = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                let _ = lines.send(line);
            }
        });
    }
    let mut seen = Vec::new();
    let mut wait_for = |needle: &str, limit: Duration| {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(line) = received.recv_timeout(Duration::from_millis(200)) {
                seen.push(line.clone());
                if line.contains(needle) {
                    return;
                }
            }
        }
        panic!(
            "no line with {needle:?} within {limit:?}:\n{}",
            seen.join("\n")
        );
    };
    wait_for("argus-local: watching ", Duration::from_secs(300));

    // Save the stage config with another ARGUS_MAX_LABELS: the watch hotswaps it.
    let line = max_labels_line(twin);
    let value = if line == "max_labels = 9" { 8 } else { 9 };
    edit_config(twin, &line, &format!("max_labels = {value}"));
    wait_for(
        "argus-local: hotswapped Processor (argus-local-processor)",
        Duration::from_secs(120),
    );
    assert_eq!(processor_state(twin).1, value.to_string());
    wait_for("watching for the next change", Duration::from_secs(60));

    // SIGINT (Ctrl-C) ends the watch cleanly.
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    wait_for("argus-local: watch stopped", Duration::from_secs(30));
    let exit = child.wait().unwrap();
    assert!(exit.success(), "{exit:?}");
    // Leave the stack as its template says for the other tests.
    run(
        twin,
        &["deploy", "--stage", "local", "--require-approval", "never"],
    );
}
