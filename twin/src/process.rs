//! Small process and port helpers for the local twin: is a port free, is a PID alive, stop a
//! PID (SIGTERM, then SIGKILL after a grace period). Unix only.
//!
//! These act on one PID (and, when that PID leads its own process group, on the members of
//! that group, i.e. the children it started). Nothing here matches processes by name. A PID read
//! from a file is checked against the start time recorded with it ([`start_time`]) before it is
//! signalled, so a recycled PID is left alone.
//!
//! [`watch_parent`] stops a process group when another process (the test binary that started
//! it) exits, however it exits.

use std::collections::BTreeSet;
use std::hash::{BuildHasher, RandomState};
use std::net::{Ipv4Addr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rustix::process::{
    Pid, Signal, WaitOptions, getpgid, kill_process, kill_process_group, test_kill_process, waitpid,
};

/// How often [`stop_pid`] checks whether the process has exited.
const POLL: Duration = Duration::from_millis(50);

/// Why a process could not be stopped or a port is not usable.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// The port on 127.0.0.1 is taken.
    #[error("port {port} on 127.0.0.1 is already in use")]
    PortInUse {
        /// The port.
        port: u16,
    },
    /// The PID is not a valid process ID (0 or over `i32::MAX`).
    #[error("{pid} is not a valid process ID")]
    InvalidPid {
        /// The PID.
        pid: u32,
    },
    /// Sending a signal failed (e.g. permission denied).
    #[error("cannot send {signal} to process {pid}: {source}")]
    Signal {
        /// The PID.
        pid: u32,
        /// `SIGTERM` or `SIGKILL`.
        signal: &'static str,
        /// The cause.
        source: std::io::Error,
    },
    /// Members of the process group the PID led are still running after SIGKILL.
    #[error("process group {pgid} still has running members {members:?} {waited:?} after SIGKILL")]
    GroupStillRunning {
        /// The process group ID (the stopped leader's PID).
        pgid: u32,
        /// The PIDs still running in it.
        members: Vec<u32>,
        /// How long they were given.
        waited: Duration,
    },
    /// The process survived SIGKILL (e.g. uninterruptible sleep).
    #[error("process {pid} is still running {waited:?} after SIGKILL")]
    StillRunning {
        /// The PID.
        pid: u32,
        /// How long it was given.
        waited: Duration,
    },
    /// Another OS error, with what was being done.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The cause.
        source: std::io::Error,
    },
}

/// How a process ended under [`stop_pid`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopOutcome {
    /// It was not running.
    AlreadyGone,
    /// It exited after SIGTERM.
    Terminated,
    /// It had to be killed with SIGKILL.
    Killed,
}

/// Checks that `port` can be bound on 127.0.0.1 right now.
///
/// Errors: [`ProcessError::PortInUse`].
pub fn ensure_port_free(port: u16) -> Result<(), ProcessError> {
    match TcpListener::bind((Ipv4Addr::LOCALHOST, port)) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            Err(ProcessError::PortInUse { port })
        }
        Err(source) => Err(ProcessError::Io {
            context: format!("cannot check port {port} on 127.0.0.1"),
            source,
        }),
    }
}

/// The lowest port [`free_port`] hands out (above the well-known and most registered ports).
const FIRST_PICKED_PORT: u16 = 10_000;

/// Linux's default ephemeral port range, used when
/// `/proc/sys/net/ipv4/ip_local_port_range` cannot be read.
const DEFAULT_EPHEMERAL_PORTS: (u16, u16) = (32_768, 60_999);

/// Ports [`free_port`] has handed out in this process; none is handed out twice.
static HANDED_OUT: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());

/// The kernel's ephemeral port range (`net.ipv4.ip_local_port_range`), from which it takes
/// the source port of every outgoing connection and the port of every `bind(port 0)`.
fn ephemeral_ports() -> (u16, u16) {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|text| {
            let mut parts = text.split_whitespace().map(str::parse::<u16>);
            match (parts.next(), parts.next()) {
                (Some(Ok(low)), Some(Ok(high))) if low <= high => Some((low, high)),
                _ => None,
            }
        })
        .unwrap_or(DEFAULT_EPHEMERAL_PORTS)
}

/// A port on 127.0.0.1 that was free a moment ago, for a server the caller is about to start.
///
/// The port is picked at random *below* the kernel's ephemeral range (see
/// `ip_local_port_range` in the Linux `ip-sysctl` documentation), from 10000 up: the kernel
/// takes the source port of every outgoing connection from that range, so a client connecting
/// anywhere cannot take the port between this pick and the server's bind. A port is never
/// handed out twice in one process, so two servers started side by side get different ports.
/// Another program could still bind the port first; servers report that as their `PortInUse`.
/// Falls back to a port the OS picks when the range below the ephemeral one is too small.
///
/// Errors: [`ProcessError::Io`] when no port can be bound.
pub fn free_port() -> Result<u16, ProcessError> {
    let (ephemeral_low, _) = ephemeral_ports();
    let mut handed_out = HANDED_OUT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if ephemeral_low > FIRST_PICKED_PORT + 1_000 {
        let span = u64::from(ephemeral_low - FIRST_PICKED_PORT);
        let start = RandomState::new().hash_one(std::process::id()) % span;
        for step in 0..span {
            let offset = u16::try_from((start + step) % span).unwrap_or(0);
            let port = FIRST_PICKED_PORT + offset;
            if !handed_out.contains(&port) && ensure_port_free(port).is_ok() {
                handed_out.insert(port);
                return Ok(port);
            }
        }
    }
    let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|source| ProcessError::Io {
            context: "cannot pick a free port on 127.0.0.1".to_owned(),
            source,
        })?;
    handed_out.insert(port);
    Ok(port)
}

/// Whether `GET http://127.0.0.1:<port><path>` answers 200 within `timeout` (never through
/// an `HTTP(S)_PROXY` from the environment: the address is loopback).
pub fn answers_ok(port: u16, path: &str, timeout: Duration) -> bool {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .proxy(None)
        .build()
        .into();
    agent
        .get(format!("http://127.0.0.1:{port}{path}"))
        .call()
        .is_ok_and(|r| r.status() == 200)
}

/// The JSON body of `GET http://127.0.0.1:<port><path>` when it answers 200 within `timeout`.
pub fn get_json(port: u16, path: &str, timeout: Duration) -> Option<serde_json::Value> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .proxy(None)
        .build()
        .into();
    let mut response = agent
        .get(format!("http://127.0.0.1:{port}{path}"))
        .call()
        .ok()?;
    if response.status() != 200 {
        return None;
    }
    let body = response.body_mut().read_to_string().ok()?;
    serde_json::from_str(&body).ok()
}

fn to_pid(pid: u32) -> Result<Pid, ProcessError> {
    i32::try_from(pid)
        .ok()
        .and_then(Pid::from_raw)
        .ok_or(ProcessError::InvalidPid { pid })
}

/// Whether a process with this PID exists and is not a zombie.
pub fn is_alive(pid: u32) -> bool {
    let Ok(p) = to_pid(pid) else {
        return false;
    };
    if test_kill_process(p).is_err_and(|e| e == rustix::io::Errno::SRCH) {
        return false;
    }
    !is_zombie(pid)
}

/// The fields of `/proc/<pid>/stat` after the command name, from field 3 (`state`) on: index
/// `n - 3` holds field `n` of proc(5). `None` when the process does not exist.
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Format: "pid (comm) state ..."; comm may contain spaces and parentheses.
    let after = stat.rsplit_once(')')?.1;
    Some(after.split_whitespace().map(str::to_owned).collect())
}

/// Linux: a zombie has exited and waits for its parent to reap it.
fn is_zombie(pid: u32) -> bool {
    stat_fields(pid).is_some_and(|f| f.first().is_some_and(|s| s == "Z"))
}

/// When the process started, in clock ticks since boot (field 22, `starttime`, of
/// `/proc/<pid>/stat`; Linux). With the PID it names one process for good: a PID recycled by a
/// later process has a later start time. `None` when there is no such process.
pub fn start_time(pid: u32) -> Option<u64> {
    stat_fields(pid)?.get(22 - 3)?.parse().ok()
}

/// The running (not zombie) members of process group `pgid`, found by scanning `/proc` (field
/// 5, `pgrp`, of each `/proc/<pid>/stat`). A zombie holds no socket or file any more.
pub fn group_members(pgid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut members: Vec<u32> = entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| {
            stat_fields(pid).is_some_and(|f| {
                f.first().is_some_and(|s| s != "Z")
                    && f.get(5 - 3).is_some_and(|g| g == &pgid.to_string())
            })
        })
        .collect();
    members.sort_unstable();
    members
}

/// Reaps `pid` if it is a child of this process that has exited, so it leaves no zombie.
/// Returns whether it has ended: reaped now, or (not a child of this process) no longer
/// running per [`is_alive`].
pub fn reap_or_gone(pid: u32) -> bool {
    let Ok(p) = to_pid(pid) else {
        return true;
    };
    match waitpid(Some(p), WaitOptions::NOHANG) {
        Ok(Some(_)) => true,
        Ok(None) => false,
        // ECHILD: not our child (or already reaped); someone else reaps it.
        Err(_) => !is_alive(pid),
    }
}

/// The command line of a process (`/proc/<pid>/cmdline`, arguments joined by spaces), to
/// check that a PID read from a state file still is the process that was started.
pub fn command_line(pid: u32) -> Option<String> {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let args: Vec<String> = raw
        .split(|&b| b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    (!args.is_empty()).then(|| args.join(" "))
}

fn signal(pid: u32, p: Pid, sig: Signal, name: &'static str) -> Result<(), ProcessError> {
    match kill_process(p, sig) {
        Ok(()) => Ok(()),
        Err(e) if e == rustix::io::Errno::SRCH => Ok(()),
        Err(e) => Err(ProcessError::Signal {
            pid,
            signal: name,
            source: e.into(),
        }),
    }
}

/// Stops a process by PID: SIGTERM, wait up to `grace`, then SIGKILL and wait up to 5 s.
/// When the PID leads its own process group (as the processes started by
/// [`crate::ministack`] do), the rest of that group is killed afterwards too, so no child
/// is left behind.
///
/// `exited` tells whether the process has ended; for a child of this process pass a closure
/// that reaps it (`child.try_wait()`), for any other process use [`is_alive`].
///
/// Errors: [`ProcessError::InvalidPid`], [`ProcessError::Signal`], [`ProcessError::StillRunning`].
pub fn stop_pid_with(
    pid: u32,
    grace: Duration,
    mut exited: impl FnMut() -> bool,
) -> Result<StopOutcome, ProcessError> {
    let p = to_pid(pid)?;
    if exited() {
        return Ok(StopOutcome::AlreadyGone);
    }
    let leads_group = getpgid(Some(p)).is_ok_and(|g| g == p);
    signal(pid, p, Signal::TERM, "SIGTERM")?;
    let outcome = if wait_until(grace, &mut exited) {
        StopOutcome::Terminated
    } else {
        signal(pid, p, Signal::KILL, "SIGKILL")?;
        let waited = Duration::from_secs(5);
        if !wait_until(waited, &mut exited) {
            return Err(ProcessError::StillRunning { pid, waited });
        }
        StopOutcome::Killed
    };
    if leads_group {
        // The group outlives its leader while members remain; ESRCH means none remain. Wait
        // until none runs, so no member still holds a listening socket when this returns.
        let _ = kill_process_group(p, Signal::KILL);
        let waited = Duration::from_secs(5);
        if !wait_until(waited, &mut || group_members(pid).is_empty()) {
            return Err(ProcessError::GroupStillRunning {
                pgid: pid,
                members: group_members(pid),
                waited,
            });
        }
    }
    Ok(outcome)
}

/// [`stop_pid_with`] for a PID known only by number (e.g. read from a state file): exit is
/// observed with [`reap_or_gone`], so a child of this process is reaped (no zombie is left)
/// and any other process is watched with [`is_alive`].
///
/// Errors: as [`stop_pid_with`].
pub fn stop_pid(pid: u32, grace: Duration) -> Result<StopOutcome, ProcessError> {
    stop_pid_with(pid, grace, || reap_or_gone(pid))
}

/// The shell script of [`watch_parent`]: `$1` the parent, `$2` its start time (empty: unknown),
/// `$3` the process group. It polls every second while the parent runs (same PID, same start
/// time, not a zombie) and the group has members; once the parent is gone and the group is
/// not, it sends SIGTERM to the group, then SIGKILL after up to 5 s.
const WATCH_SCRIPT: &str = r#"
parent_runs() {
    { read -r stat < "/proc/$1/stat"; } 2>/dev/null || return 1
    set -- ${stat##*) } "$2"
    [ "$1" != Z ] || return 1
    eval "started=\${$#}"
    [ -z "$started" ] || [ "${20}" = "$started" ]
}
group_runs() { kill -0 -"$1" 2>/dev/null; }
while parent_runs "$1" "$2" && group_runs "$3"; do sleep 1; done
group_runs "$3" || exit 0
kill -TERM -"$3" 2>/dev/null
i=0
while [ "$i" -lt 50 ] && group_runs "$3"; do sleep 0.1; i=$((i + 1)); done
kill -KILL -"$3" 2>/dev/null
exit 0
"#;

/// A watcher started by [`watch_parent`]. Dropping the handle leaves the watcher running (it
/// ends by itself once the group is gone); [`Watcher::cancel`] stops it.
#[derive(Debug)]
pub struct Watcher {
    child: Child,
}

impl Watcher {
    /// The watcher's PID (a `sh` process in a process group of its own).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops the watcher without touching the group it watches, and reaps it.
    ///
    /// Errors: [`ProcessError::Io`] when it cannot be signalled or reaped.
    pub fn cancel(mut self) -> Result<(), ProcessError> {
        let pid = self.child.id();
        let io = |source| ProcessError::Io {
            context: format!("cannot stop the watcher {pid}"),
            source,
        };
        if self.child.try_wait().map_err(io)?.is_none() {
            // A watcher already exiting is reaped below all the same.
            let _ = self.child.kill();
        }
        self.child.wait().map_err(io)?;
        Ok(())
    }
}

/// Stops process group `pgid` (SIGTERM, then SIGKILL after up to 5 s) once process `parent` has
/// exited, however it exits (panic, abort, SIGKILL): a `sh` watcher, in a process group of its
/// own (so a Ctrl-C to the terminal does not stop it first), polls every second whether
/// `parent` still runs, identified by PID and [`start_time`] (a recycled PID does not keep it
/// waiting). It exits by itself, touching nothing, when the group ends first.
///
/// For a twin started by a test binary: `watch_parent(twin_pid, std::process::id())`, where
/// the twin's PID leads its own process group.
///
/// Errors: [`ProcessError::InvalidPid`] for a PID of 0 or over `i32::MAX`; [`ProcessError::Io`]
/// when `sh` cannot be started.
pub fn watch_parent(pgid: u32, parent: u32) -> Result<Watcher, ProcessError> {
    use std::os::unix::process::CommandExt;
    to_pid(pgid)?;
    to_pid(parent)?;
    let started = start_time(parent)
        .map(|t| t.to_string())
        .unwrap_or_default();
    let child = Command::new("sh")
        .args(["-c", WATCH_SCRIPT, "argus-twin-watch"])
        .args([parent.to_string(), started, pgid.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map_err(|source| ProcessError::Io {
            context: "cannot start the watcher (sh)".to_owned(),
            source,
        })?;
    Ok(Watcher { child })
}

fn wait_until(limit: Duration, done: &mut impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(POLL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt;
    use std::process::Command;

    #[test]
    fn free_ports_are_below_the_ephemeral_range_bindable_and_never_repeated() {
        let (ephemeral_low, _) = ephemeral_ports();
        let ports: Vec<u16> = (0..50).map(|_| free_port().unwrap()).collect();
        let distinct: BTreeSet<u16> = ports.iter().copied().collect();
        assert_eq!(distinct.len(), ports.len(), "{ports:?}");
        for port in ports {
            assert!((FIRST_PICKED_PORT..ephemeral_low).contains(&port), "{port}");
            TcpListener::bind((Ipv4Addr::LOCALHOST, port)).unwrap();
        }
    }

    #[test]
    fn a_bound_port_is_reported_in_use() {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        assert!(matches!(
            ensure_port_free(port),
            Err(ProcessError::PortInUse { port: p }) if p == port
        ));
        drop(listener);
        ensure_port_free(port).unwrap();
    }

    #[test]
    fn stop_pid_terminates_a_sleeping_child() {
        let mut child = Command::new("sleep").arg("30").spawn().unwrap();
        let pid = child.id();
        assert!(is_alive(pid));
        let outcome = stop_pid_with(pid, Duration::from_secs(5), || {
            child.try_wait().unwrap().is_some()
        })
        .unwrap();
        assert_eq!(outcome, StopOutcome::Terminated);
        assert!(!is_alive(pid));
        assert_eq!(
            stop_pid_with(pid, Duration::from_secs(1), || true).unwrap(),
            StopOutcome::AlreadyGone
        );
    }

    #[test]
    fn stop_pid_kills_what_ignores_sigterm_and_its_group() {
        // A shell that ignores SIGTERM and has a child of its own, in its own group.
        let mut child = Command::new("sh")
            .args(["-c", "trap '' TERM; sleep 30 & echo $!; wait"])
            .stdout(std::process::Stdio::piped())
            .process_group(0)
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().unwrap()),
            &mut line,
        )
        .unwrap();
        let grandchild: u32 = line.trim().parse().unwrap();
        assert!(is_alive(grandchild));
        let pid = child.id();
        let outcome = stop_pid_with(pid, Duration::from_millis(300), || {
            child.try_wait().unwrap().is_some()
        })
        .unwrap();
        assert_eq!(outcome, StopOutcome::Killed);
        let deadline = Instant::now() + Duration::from_secs(5);
        while is_alive(grandchild) && Instant::now() < deadline {
            std::thread::sleep(POLL);
        }
        assert!(
            !is_alive(grandchild),
            "the group member {grandchild} survived"
        );
    }

    /// Waits up to `limit` for `done`.
    fn eventually(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
        wait_until(limit, &mut done)
    }

    /// "The parent" (a test binary) and a process it started (the twin), in its own group.
    fn parent_and_watched() -> (std::process::Child, std::process::Child) {
        let parent = Command::new("sleep").arg("60").spawn().unwrap();
        let watched = Command::new("sleep")
            .arg("60")
            .process_group(0)
            .spawn()
            .unwrap();
        (parent, watched)
    }

    #[test]
    fn a_watched_group_is_stopped_when_its_parent_exits() {
        let (mut parent, mut watched) = parent_and_watched();
        let watcher = watch_parent(watched.id(), parent.id()).unwrap();
        std::thread::sleep(Duration::from_millis(1500));
        assert!(
            watched.try_wait().unwrap().is_none(),
            "stopped while its parent runs"
        );
        parent.kill().unwrap();
        parent.wait().unwrap();
        assert!(
            eventually(Duration::from_secs(5), || watched
                .try_wait()
                .unwrap()
                .is_some()),
            "the watched process outlived its parent"
        );
        // The watcher ends by itself once the group is gone.
        let watcher_pid = watcher.pid();
        let mut watcher = watcher;
        assert!(
            eventually(Duration::from_secs(10), || watcher
                .child
                .try_wait()
                .unwrap()
                .is_some()),
            "the watcher {watcher_pid} kept running"
        );
    }

    #[test]
    fn a_cancelled_watcher_leaves_the_group_running() {
        let (mut parent, mut watched) = parent_and_watched();
        watch_parent(watched.id(), parent.id())
            .unwrap()
            .cancel()
            .unwrap();
        parent.kill().unwrap();
        parent.wait().unwrap();
        std::thread::sleep(Duration::from_millis(2500));
        assert!(watched.try_wait().unwrap().is_none());
        watched.kill().unwrap();
        watched.wait().unwrap();
    }

    #[test]
    fn stop_pid_reaps_a_child_of_this_process() {
        let child = Command::new("sleep").arg("30").spawn().unwrap();
        let pid = child.id();
        assert_eq!(
            stop_pid(pid, Duration::from_secs(5)).unwrap(),
            StopOutcome::Terminated
        );
        assert!(
            !std::path::Path::new(&format!("/proc/{pid}")).exists(),
            "{pid} was left as a zombie"
        );
        drop(child);
    }

    #[test]
    fn group_members_lists_the_running_processes_of_a_group() {
        let mut child = Command::new("sleep")
            .arg("30")
            .process_group(0)
            .spawn()
            .unwrap();
        let pid = child.id();
        assert_eq!(group_members(pid), vec![pid]);
        child.kill().unwrap();
        // A zombie is no running member.
        assert!(eventually(Duration::from_secs(5), || group_members(pid).is_empty()));
        child.wait().unwrap();
    }

    #[test]
    fn command_line_of_self_is_readable() {
        let cmd = command_line(std::process::id()).unwrap();
        assert!(!cmd.is_empty());
    }
}
