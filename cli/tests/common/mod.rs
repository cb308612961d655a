//! Helpers shared by the `argus` integration tests: the binary pointed at a twin, MiniStack on a
//! free port, the local stage's bundles built once.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

#[path = "../../../infra/cdk/tests/judges/mod.rs"]
mod judges;

pub use judges::repo_root as root;

/// The shipped stage configs.
pub fn config_dir() -> PathBuf {
    root().join("stacks/config")
}

/// A free TCP port on 127.0.0.1, outside the kernel's ephemeral range and never handed out
/// twice (see [`argus_twin::process::free_port`]).
pub fn free_port() -> u16 {
    argus_twin::process::free_port().unwrap()
}

/// Starts MiniStack (the twin's emulator, from `.venv/twin`) on a free loopback port; it is
/// stopped by PID when the handle drops, or when this test binary exits.
pub fn start_twin() -> argus_twin::ministack::MiniStack {
    start_twin_with(&[])
}

/// [`start_twin`] with extra environment for MiniStack. A port that another program takes
/// between the pick and MiniStack's bind is answered by picking another (three tries).
pub fn start_twin_with(env: &[(&str, &str)]) -> argus_twin::ministack::MiniStack {
    use argus_twin::ministack::{MiniStack, MiniStackError, MiniStackOptions, VENV_PYTHON};
    let python = root().join(VENV_PYTHON);
    assert!(
        python.exists(),
        "{} is missing: run `make twin-tools` (make test does)",
        python.display()
    );
    let mut tries = 0;
    loop {
        let mut options = MiniStackOptions::new(python.clone(), free_port());
        // Stopped with this test binary even if the handle is never dropped (abort, SIGKILL).
        options.stop_with_parent = true;
        for (name, value) in env {
            options.env.push(((*name).to_owned(), (*value).to_owned()));
        }
        match MiniStack::start(options) {
            Err(MiniStackError::PortInUse { .. }) if tries < 2 => tries += 1,
            started => return started.unwrap(),
        }
    }
}

/// Watchers that stop the processes of the twin recorded in `state_dir` (by `argus local up`)
/// when this test binary exits, however it exits; each PID leads its own process group. Keep
/// them (dropping leaves them watching; they end by themselves once the twin is stopped).
pub fn stop_twin_with_this_process(state_dir: &Path) -> Vec<argus_twin::process::Watcher> {
    let state = argus_twin::lifecycle::TwinState::load(state_dir)
        .unwrap()
        .expect("argus local up wrote the twin's state");
    [state.ministack.pid, state.rekognition.pid]
        .into_iter()
        .map(|pid| argus_twin::process::watch_parent(pid, std::process::id()).unwrap())
        .collect()
}

/// `argus` with the environment of the twin at `endpoint` (test credentials, the stage's Region).
pub fn argus_on(endpoint: &str) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_argus"));
    command
        .current_dir(root())
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .env_remove("AWS_PROFILE")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
    command
}

/// A copy of the shipped stage configs that a test may edit.
pub fn config_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(config_dir()).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
    }
    dir
}

/// Builds the local stage's bundles (processor and api) once per test binary with `argus bundle`
/// (`processor.bundle = "host"`: the workspace's dev build for this machine) and returns the folder holding the zips; callers copy them into their
/// own assembly folder with [`copy_bundles`].
pub fn bundles() -> &'static Path {
    static BUNDLES: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUNDLES.get_or_init(|| {
        let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("argus-bundle");
        let status = std::process::Command::new(env!("CARGO_BIN_EXE_argus"))
            .current_dir(root())
            .args(["bundle", "--stage", "local", "--out"])
            .arg(&out)
            .status()
            .unwrap();
        assert!(
            status.success(),
            "argus bundle --stage local failed (a dev build of argus-runtime's processor and api)"
        );
        out.join("assets")
    })
}

/// The processor's zip among [`bundles`].
pub fn processor_bundle() -> PathBuf {
    bundles().join("processor-x86_64.zip")
}

/// Copies every bundle into `<out>/assets/`, where `argus deploy` looks for them.
pub fn copy_bundles(out: &Path) {
    let assets = out.join("assets");
    std::fs::create_dir_all(&assets).unwrap();
    for entry in std::fs::read_dir(bundles()).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, assets.join(path.file_name().unwrap())).unwrap();
    }
}

/// The deployed function `name` as Lambda's GetFunctionConfiguration describes it, in the
/// shape [`argus_twin::lambda::FunctionProcess`] starts it with.
pub async fn function_config(
    lambda: &aws_sdk_lambda::Client,
    name: &str,
    region: &str,
) -> argus_twin::lambda::FunctionConfig {
    let c = lambda
        .get_function_configuration()
        .function_name(name)
        .send()
        .await
        .unwrap_or_else(|e| panic!("Lambda GetFunctionConfiguration {name}: {e:?}"));
    let variables: std::collections::BTreeMap<String, String> = c
        .environment()
        .and_then(|e| e.variables())
        .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    assert!(
        variables.keys().any(|k| k.starts_with("ARGUS_")),
        "function {name} has no ARGUS_* variables: {variables:?}"
    );
    argus_twin::lambda::FunctionConfig {
        name: c.function_name().unwrap_or(name).to_owned(),
        arn: c.function_arn().expect("a function ARN").to_owned(),
        version: c.version().unwrap_or("$LATEST").to_owned(),
        memory_mb: c
            .memory_size()
            .and_then(|m| u32::try_from(m).ok())
            .unwrap_or(128),
        timeout_secs: c.timeout().and_then(|t| u32::try_from(t).ok()).unwrap_or(3),
        log_group: c
            .logging_config()
            .and_then(|l| l.log_group())
            .map_or_else(|| format!("/aws/lambda/{name}"), str::to_owned),
        region: region.to_owned(),
        variables,
    }
}

/// The sample images: every JPEG and PNG in `samples/` as (file name, bytes), by name.
pub fn samples() -> Vec<(String, Vec<u8>)> {
    let dir = root().join("samples");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| {
            let n = n.to_ascii_lowercase();
            n.ends_with(".png") || n.ends_with(".jpg") || n.ends_with(".jpeg")
        })
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|n| {
            let bytes = std::fs::read(dir.join(&n)).unwrap();
            (n, bytes)
        })
        .collect()
}
