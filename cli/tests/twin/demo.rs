//! `make demo`'s flow end to end (`argus demo`): twin up, bundle, bootstrap, deploy, upload every
//! sample, wait for every record; the printed table and the result files are checked against the
//! fixtures and the SHA-256 that `sha256sum` gives; the results report (`argus report` and the
//! demo's own) is rendered in headless Chromium and checked ([`crate::report`]); `argus audit`
//! lists the processor's Rekognition calls from the twin's CloudTrail ([`crate::audit`]). The
//! twin is stopped afterwards and no process of it is left.

use std::collections::BTreeMap;

use serde_json::Value;

fn sha256sum(path: &std::path::Path) -> String {
    let out = std::process::Command::new("sha256sum")
        .arg(path)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

/// Fixtures by image file name.
fn fixtures() -> BTreeMap<String, Value> {
    std::fs::read_dir(crate::common::root().join("samples/fixtures"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let v: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
            (v["image"].as_str().unwrap().to_owned(), v)
        })
        .collect()
}

#[test]
fn the_demo_processes_every_sample_and_prints_what_the_fixtures_say() {
    // Built once per test binary; the demo's own bundle step then finds the build up to date.
    assert!(crate::common::bundles().exists());
    let config = crate::common::config_copy();
    let rekognition_port = crate::common::free_port();
    let local = config.path().join("local.toml");
    let text = std::fs::read_to_string(&local).unwrap();
    std::fs::write(
        &local,
        text.replace(
            "http://127.0.0.1:4599",
            &format!("http://127.0.0.1:{rekognition_port}"),
        ),
    )
    .unwrap();
    let (state, out, results) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let ministack_port = crate::common::free_port().to_string();

    let o = std::process::Command::new(env!("CARGO_BIN_EXE_argus"))
        .current_dir(crate::common::root())
        .args([
            "demo",
            "--fixtures",
            "samples/fixtures",
            "--wait",
            "240",
            "--ministack-port",
            &ministack_port,
            "--state-dir",
        ])
        .arg(state.path())
        .arg("--results")
        .arg(results.path())
        .arg("--config-dir")
        .arg(config.path())
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    let recorded: Value =
        serde_json::from_str(&std::fs::read_to_string(state.path().join("twin.json")).unwrap())
            .unwrap();
    // `argus report` on the twin the demo left running (the demo wrote its own at <out>/report).
    let twin: argus_twin::lifecycle::TwinState = serde_json::from_value(recorded.clone()).unwrap();
    let report_dir = tempfile::tempdir().unwrap();
    let report = std::process::Command::new(env!("CARGO_BIN_EXE_argus"))
        .current_dir(crate::common::root())
        .args([
            "report",
            "--stage",
            "local",
            "--since",
            "1h",
            "--config-dir",
        ])
        .arg(config.path())
        .arg("--out")
        .arg(report_dir.path())
        .envs(twin.environment())
        .output()
        .unwrap();
    // `argus audit` on the same twin: one DetectLabels call per processed image.
    let processed = std::fs::read_dir(results.path())
        .map(|entries| {
            entries
                .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
                .filter_map(|text| serde_json::from_str::<Value>(&text).ok())
                .filter(|record| record["status"] == "PROCESSED")
                .count()
        })
        .unwrap_or(0);
    let audit = crate::audit::collect(&twin, config.path(), processed);
    let down = std::process::Command::new(env!("CARGO_BIN_EXE_argus"))
        .current_dir(crate::common::root())
        .args(["local", "down", "--state-dir"])
        .arg(state.path())
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "demo failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(down.status.success());
    for component in ["ministack", "rekognition"] {
        let pid = recorded[component]["pid"].as_u64().unwrap();
        assert!(
            !argus_twin::process::is_alive(pid as u32),
            "{component} (pid {pid}) is still running"
        );
    }

    let table_start = stdout.find("IMAGE ").expect("the table is printed");
    let table: Vec<&str> = stdout[table_start..]
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .collect();
    eprintln!("{}", table.join("\n"));
    let fixtures = fixtures();
    let samples = std::fs::read_dir(crate::common::root().join("samples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "png" || x == "jpg"))
        .collect::<Vec<_>>();
    // The real photos of the models folder (`make models`) come after the samples.
    let photos = ["bull-mastiff.jpg", "cannon.jpg"];
    assert_eq!(
        table.len(),
        samples.len() + photos.len() + 1,
        "one row per sample and photo:\n{}",
        table.join("\n")
    );
    for path in &samples {
        let name = path.file_name().unwrap().to_str().unwrap();
        let row = table
            .iter()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no row for {name}"));
        let sha = sha256sum(path);
        assert!(row.contains("PROCESSED"), "{row}");
        assert!(row.contains(&sha[..12]), "{row} lacks {}", &sha[..12]);
        let fixture = &fixtures[name];
        let mut labels: Vec<&Value> = fixture["labels"].as_array().unwrap().iter().collect();
        labels.sort_by(|a, b| {
            b["Confidence"]
                .as_f64()
                .partial_cmp(&a["Confidence"].as_f64())
                .unwrap()
        });
        if let Some(top) = labels.first() {
            assert!(
                row.contains(top["Name"].as_str().unwrap()),
                "{row} lacks {}",
                top["Name"]
            );
        }
        let faces = fixture["faces"].as_array().map_or(0, Vec::len);
        let cells: Vec<&str> = row
            .split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        assert!(
            cells.contains(&faces.to_string().as_str()),
            "{row}: {faces} faces"
        );
        // Every sample has a fixture: the ANSWERED BY cell, the last, says so.
        assert_eq!(cells.last(), Some(&"fixture"), "{row}");
        // The result file holds the full record.
        let file = std::fs::read_dir(results.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| {
                p.file_name()
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .starts_with(&format!(
                        "{}_labels_",
                        path.file_stem().unwrap().to_str().unwrap()
                    ))
            })
            .unwrap_or_else(|| panic!("no result file for {name}"));
        let record: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        assert_eq!(record["sha256"], sha);
        assert_eq!(record["status"], "PROCESSED");
        assert_eq!(record["stage"], "local");
        assert!(record["expires_at"].as_i64().unwrap() > 1_700_000_000);
    }
    // No fixture for the photos: the models answered, and the gun raised the alert.
    for photo in photos {
        let row = table.iter().find(|l| l.starts_with(photo)).unwrap();
        assert!(row.contains("PROCESSED"), "{row}");
        assert!(
            row.ends_with("efficientnet-lite0, mtcnn, pp-ocrv4, open_nsfw"),
            "{row}"
        );
    }
    let cannon = table.iter().find(|l| l.starts_with("cannon.jpg")).unwrap();
    assert!(
        cannon.contains("YES: ") && cannon.contains("Gun"),
        "{cannon}"
    );
    let dog = table
        .iter()
        .find(|l| l.starts_with("bull-mastiff.jpg"))
        .unwrap();
    assert!(dog.contains("Dog") && !dog.contains("YES: "), "{dog}");
    let knife = table.iter().find(|l| l.starts_with("knife.png")).unwrap();
    assert!(
        knife.contains("YES: ") && knife.contains("Knife"),
        "{knife}"
    );
    let astronaut = table
        .iter()
        .find(|l| l.starts_with("astronaut.png"))
        .unwrap();
    // The DECISION cell exactly (`UNAUTHORIZED` contains `AUTHORIZED`): columns are separated by
    // two spaces and DECISION is the one before SHA-256 and ANSWERED BY, the last two.
    let cells: Vec<&str> = astronaut
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(
        cells.iter().rev().nth(2),
        Some(&"AUTHORIZED"),
        "the DECISION of {astronaut}"
    );
    let text_row = table.iter().find(|l| l.starts_with("text.png")).unwrap();
    let first_line = fixtures["text.png"]["text_lines"][0]["DetectedText"]
        .as_str()
        .unwrap();
    assert!(
        text_row.contains(first_line),
        "{text_row} lacks the OCR text `{first_line}`"
    );
    assert!(stdout.contains("make demo-down"));

    // The results report, from `argus report` and from the demo itself.
    assert!(
        report.status.success(),
        "argus report failed: {}",
        String::from_utf8_lossy(&report.stderr)
    );
    let records: Vec<Value> = std::fs::read_dir(results.path())
        .unwrap()
        .map(|e| {
            serde_json::from_str(&std::fs::read_to_string(e.unwrap().path()).unwrap()).unwrap()
        })
        .collect();
    assert_eq!(records.len(), samples.len() + photos.len());
    crate::report::check_report(report_dir.path(), &records);
    let demo_report = out.path().join("report");
    assert!(stdout.contains(&format!("{}", demo_report.join("index.html").display())));
    crate::report::check_report(&demo_report, &records);
    // The audit trail of the demo's calls, from LookupEvents and from the trail bucket.
    crate::audit::check(&audit, &records);
    // `ARGUS_REPORT_SCREENSHOT=/tmp/report.png` keeps it (docs/report.png is make demo's).
    let png = out.path().join("report.png");
    crate::report::screenshot(&demo_report.join("index.html"), &png);
    assert!(std::fs::metadata(&png).unwrap().len() > 10_000);
    if let Some(keep) = std::env::var_os("ARGUS_REPORT_SCREENSHOT") {
        std::fs::copy(&png, keep).unwrap();
    }
}
