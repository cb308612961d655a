//! `argus local up|down|status`: starts both processes on loopback, refuses to start twice,
//! reports status, and `down` leaves no process of the twin behind.

use std::path::Path;
use std::process::Output;

fn argus(state: &Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_argus"))
        .current_dir(crate::common::root())
        .arg("local")
        .args(args)
        .arg("--state-dir")
        .arg(state)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// PIDs of every live process whose process group is `pgid` (the twin's processes lead their groups).
fn group_members(pgid: u32) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            // Fields after the command name: state, ppid, pgrp, …
            let after = stat
                .rsplit_once(')')
                .map(|(_, rest)| rest.to_owned())
                .unwrap_or_default();
            let fields: Vec<&str> = after.split_whitespace().collect();
            fields.first() != Some(&"Z")
                && fields.get(2).and_then(|g| g.parse::<u32>().ok()) == Some(pgid)
        })
        .collect()
}

#[test]
fn up_twice_status_and_down_leave_nothing_behind() {
    let state = tempfile::tempdir().unwrap();
    let (ministack_port, rekognition_port) =
        (crate::common::free_port(), crate::common::free_port());
    let ports = [
        "--ministack-port".to_owned(),
        ministack_port.to_string(),
        "--rekognition-port".to_owned(),
        rekognition_port.to_string(),
    ];
    let up_args: Vec<&str> = std::iter::once("up")
        .chain(ports.iter().map(String::as_str))
        .collect();

    let o = argus(state.path(), &up_args);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains(&format!("export AWS_ENDPOINT_URL=http://127.0.0.1:{ministack_port} AWS_ENDPOINT_URL_REKOGNITION=http://127.0.0.1:{rekognition_port}")), "{}", text(&o));
    let recorded: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(state.path().join("twin.json")).unwrap())
            .unwrap();
    let pids: Vec<u32> = ["ministack", "rekognition"]
        .iter()
        .map(|c| recorded[c]["pid"].as_u64().unwrap() as u32)
        .collect();
    assert_eq!(recorded["ministack"]["port"], ministack_port);
    assert_eq!(recorded["rekognition"]["port"], rekognition_port);
    for pid in &pids {
        assert!(!group_members(*pid).is_empty(), "pid {pid} runs");
    }

    // A second `up` starts nothing.
    let o = argus(state.path(), &up_args);
    assert!(
        o.status.success() && text(&o).contains("already running"),
        "{}",
        text(&o)
    );
    let again: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(state.path().join("twin.json")).unwrap())
            .unwrap();
    assert_eq!(again, recorded);

    let o = argus(state.path(), &["status"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(text(&o).matches("running").count(), 2, "{}", text(&o));

    let o = argus(state.path(), &["down"]);
    assert!(o.status.success(), "{}", text(&o));
    for pid in &pids {
        assert!(
            group_members(*pid).is_empty(),
            "processes of group {pid} are left: {:?}",
            group_members(*pid)
        );
    }
    assert!(!state.path().join("twin.json").exists());
    let o = argus(state.path(), &["status"]);
    assert!(text(&o).contains("not running"), "{}", text(&o));
    let o = argus(state.path(), &["down"]);
    assert!(
        o.status.success() && text(&o).contains("not running"),
        "{}",
        text(&o)
    );
}

#[test]
fn a_port_in_use_is_a_clear_error_and_starts_nothing() {
    let state = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let other = crate::common::free_port().to_string();
    let o = argus(
        state.path(),
        &[
            "up",
            "--ministack-port",
            &port,
            "--rekognition-port",
            &other,
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains(&format!(
            "port {port} on 127.0.0.1 (for MiniStack) is in use"
        )),
        "{}",
        text(&o)
    );
    assert!(!state.path().join("twin.json").exists());
}
