//! The MiniStack launcher: start on a free port, health, stop by PID, stop on drop, and a
//! clear error for a port in use. Every process started here is stopped here.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::{Ipv4Addr, TcpListener};
use std::time::Duration;

use argus_twin::ministack::{HEALTH_PATH, default_python};
use argus_twin::process::{StopOutcome, command_line, free_port, is_alive, stop_pid};
use argus_twin::{MiniStack, MiniStackError, MiniStackOptions};

fn options(port: u16) -> MiniStackOptions {
    MiniStackOptions::new(default_python(), port)
}

#[test]
fn a_port_in_use_is_a_clear_error_and_nothing_is_started() {
    let taken = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = taken.local_addr().unwrap().port();
    let err = MiniStack::start(options(port)).unwrap_err();
    assert!(
        matches!(err, MiniStackError::PortInUse { port: p } if p == port),
        "{err}"
    );
    let message = err.to_string();
    assert!(
        message.contains(&port.to_string()) && message.contains("already in use"),
        "{message}"
    );
}

#[test]
fn a_missing_python_is_a_clear_error() {
    let err = MiniStack::start(MiniStackOptions::new(
        "/nonexistent/.venv/twin/bin/python",
        free_port().unwrap(),
    ))
    .unwrap_err();
    assert!(
        matches!(err, MiniStackError::PythonNotFound { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("requirements/twin.txt"));
}

#[test]
fn started_ministack_answers_and_stops_by_pid() {
    let port = free_port().unwrap();
    let ministack = MiniStack::start(options(port)).unwrap();
    let pid = ministack.pid();
    assert!(is_alive(pid));
    assert!(command_line(pid).unwrap().contains("ministack"));
    assert_eq!(ministack.endpoint_url(), format!("http://127.0.0.1:{port}"));
    assert!(ministack.is_healthy());
    let agent: ureq::Agent = ureq::Agent::config_builder().proxy(None).build().into();
    let text = agent
        .get(format!("http://127.0.0.1:{port}{HEALTH_PATH}"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    let health: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(health["services"]["s3"], "available", "{health}");
    // A second MiniStack on the same port is refused before anything is spawned.
    assert!(matches!(
        MiniStack::start(options(port)),
        Err(MiniStackError::PortInUse { .. })
    ));

    // Detached (as `argus local up` leaves it), then stopped by PID (as `argus local down`).
    let detached = ministack.detach();
    assert_eq!(detached.pid, pid);
    assert!(is_alive(pid), "detach must leave MiniStack running");
    assert!(detached.log.exists());
    let outcome = stop_pid(pid, Duration::from_secs(10)).unwrap();
    assert!(matches!(
        outcome,
        StopOutcome::Terminated | StopOutcome::Killed
    ));
    assert!(!is_alive(pid));
    assert!(!argus_twin::ministack::probe_health(
        port,
        Duration::from_secs(1)
    ));
    std::fs::remove_dir_all(&detached.state_dir).unwrap();
}

#[test]
fn dropping_the_handle_stops_ministack_and_removes_its_state() {
    let ministack = MiniStack::start(options(free_port().unwrap())).unwrap();
    let pid = ministack.pid();
    let state_dir = ministack.state_dir().unwrap().to_path_buf();
    assert!(state_dir.join("ministack.log").exists());
    drop(ministack);
    assert!(!is_alive(pid));
    assert!(!state_dir.exists());
}
