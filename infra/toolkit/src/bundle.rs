//! Lambda bundles: build a binary with cargo-lambda for `provided.al2023` (or, for the local
//! twin, with the workspace's own dev build for this machine: [`BundleTarget::Host`]), then
//! package it as a deterministic zip that holds only `bootstrap` (mode 0755, fixed timestamp),
//! named by its SHA-256.
//!
//! cargo-lambda's own `--output-format zip` stores the build time, so its zips differ on every
//! build; this module writes the zip itself with the `zip` crate instead.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use argus_cdk::asset::BundleTarget;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use super::ToolkitError;

/// The newest glibc that Amazon Linux 2023 (`provided.al2023`) provides.
pub const AL2023_GLIBC: (u32, u32) = (2, 34);

/// What to build.
#[derive(Clone, Debug)]
pub struct BundleRequest {
    /// The workspace root (where `cargo lambda build` runs).
    pub workspace: PathBuf,
    /// The cargo package, e.g. `argus-runtime`.
    pub package: String,
    /// The binary, e.g. `processor`.
    pub binary: String,
    /// `x86_64` or `arm64`.
    pub architecture: String,
    /// Where the zip is written.
    pub out_dir: PathBuf,
    /// Extra folders put first on `PATH` (the virtualenv holding cargo-lambda and ziglang).
    pub tool_paths: Vec<PathBuf>,
    /// Lambda (cargo-lambda, release) or this machine (cargo, dev profile).
    pub target: BundleTarget,
}

/// A packaged bundle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bundle {
    /// The zip file.
    pub zip_path: PathBuf,
    /// Lowercase hex SHA-256 of the zip's bytes.
    pub sha256: String,
    /// The zip's size in bytes.
    pub size: u64,
    /// The newest glibc version the binary needs, if it links glibc.
    pub glibc: Option<(u32, u32)>,
}

impl Bundle {
    /// The content-addressed object key: `<sha256>.zip`.
    pub fn key(&self) -> String {
        format!("{}.zip", self.sha256)
    }
}

/// Builds the binary (`cargo lambda build --release` for [`BundleTarget::Lambda`], `cargo build`
/// for [`BundleTarget::Host`]) and packages it at `<out_dir>/<binary>-<architecture>.zip`.
///
/// # Errors
/// [`ToolkitError::Bundle`] when cargo-lambda is missing or the build fails, or a Lambda binary
/// needs a glibc newer than Amazon Linux 2023's; [`ToolkitError::Io`] when the zip cannot be
/// written.
pub fn build(request: &BundleRequest) -> Result<Bundle, ToolkitError> {
    let zip_path = request
        .out_dir
        .join(format!("{}-{}.zip", request.binary, request.architecture));
    match request.target {
        BundleTarget::Lambda => {
            let binary = build_for_lambda(request)?;
            package(&binary, &zip_path)
        }
        BundleTarget::Host => {
            let binary = build_for_host(request)?;
            package_host(&binary, &zip_path)
        }
    }
}

/// `cargo build --workspace --bin B` with the workspace's dev profile and target folder (the
/// ones the CLI was built with, so the dependencies are already compiled; `B` must be a binary
/// of the request's package). Returns the
/// executable cargo reports (`--message-format json`), wherever `CARGO_TARGET_DIR` puts it.
fn build_for_host(request: &BundleRequest) -> Result<PathBuf, ToolkitError> {
    let host_arch = match std::env::consts::ARCH {
        "aarch64" => "arm64",
        other => other,
    };
    if request.architecture != host_arch {
        return Err(ToolkitError::Bundle(format!(
            "{}/{}: a `host` bundle is built for this machine ({host_arch}), but the stage asks for {}; set `processor.architecture = \"{host_arch}\"` or `processor.bundle = \"lambda\"`",
            request.package, request.binary, request.architecture
        )));
    }
    // `--workspace --bin B`: features unified over the whole workspace, as `make argus` builds
    // the CLI, so the dependencies the CLI compiled are reused as they are (with `--package P`
    // alone, cargo would resolve other features for hyper, tower, … and compile the AWS SDK again).
    let output = Command::new("cargo")
        .args([
            "build",
            "--locked",
            "--message-format",
            "json-render-diagnostics",
            "--workspace",
            "--bin",
            &request.binary,
        ])
        .current_dir(&request.workspace)
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| ToolkitError::Bundle(format!("cannot run `cargo build`: {e}")))?;
    if !output.status.success() {
        return Err(ToolkitError::Bundle(format!(
            "`cargo build` for {}/{} (host) failed with {}",
            request.package, request.binary, output.status
        )));
    }
    host_executable(&output.stdout, &request.binary).ok_or_else(|| {
        ToolkitError::Bundle(format!(
            "`cargo build` for {}/{} reported no executable named `{}`",
            request.package, request.binary, request.binary
        ))
    })
}

/// The path of the binary target `binary` among cargo's JSON messages (one per line, `reason`
/// `compiler-artifact` with an `executable`), the last one if several.
fn host_executable(messages: &[u8], binary: &str) -> Option<PathBuf> {
    String::from_utf8_lossy(messages)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| {
            m["reason"] == "compiler-artifact"
                && m["target"]["name"] == binary
                && m["target"]["kind"]
                    .as_array()
                    .is_some_and(|kinds| kinds.iter().any(|k| k == "bin"))
        })
        .filter_map(|m| m["executable"].as_str().map(PathBuf::from))
        .next_back()
}

/// `cargo lambda build --release` for provided.al2023; returns `target/lambda/<binary>/bootstrap`.
fn build_for_lambda(request: &BundleRequest) -> Result<PathBuf, ToolkitError> {
    let arch_flag = match request.architecture.as_str() {
        "x86_64" => "--x86-64",
        "arm64" => "--arm64",
        other => {
            return Err(ToolkitError::Bundle(format!(
                "unknown architecture `{other}` (x86_64 or arm64)"
            )));
        }
    };
    let mut path = request.tool_paths.clone();
    path.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    let path = std::env::join_paths(path).map_err(|e| ToolkitError::Bundle(e.to_string()))?;
    let lambda_dir = request.workspace.join("target").join("lambda");
    let status = Command::new("cargo")
        .args([
            "lambda",
            "build",
            "--release",
            arch_flag,
            "--package",
            &request.package,
            "--bin",
            &request.binary,
        ])
        .arg("--lambda-dir")
        .arg(&lambda_dir)
        .current_dir(&request.workspace)
        .env("PATH", path)
        .status()
        .map_err(|e| ToolkitError::Bundle(format!("cannot run `cargo lambda`: {e}")))?;
    if !status.success() {
        return Err(ToolkitError::Bundle(format!(
            "`cargo lambda build` for {}/{} ({}) failed with {status}; is cargo-lambda installed (`make bundle-tools`)?",
            request.package, request.binary, request.architecture
        )));
    }
    Ok(lambda_dir.join(&request.binary).join("bootstrap"))
}

/// Packages an existing `bootstrap` binary as a deterministic zip at `zip_path`.
///
/// # Errors
/// [`ToolkitError::Io`]; [`ToolkitError::Bundle`] when the binary needs a glibc newer than
/// [`AL2023_GLIBC`].
pub fn package(binary: &Path, zip_path: &Path) -> Result<Bundle, ToolkitError> {
    let bytes = std::fs::read(binary).map_err(|e| ToolkitError::io(binary, e))?;
    let glibc = glibc_requirement(&bytes)?;
    check_glibc(binary, glibc)?;
    write_zip(&bytes, zip_path, glibc)
}

/// Packages a binary built for this machine ([`BundleTarget::Host`]) as a deterministic zip at
/// `zip_path`: no Amazon Linux 2023 glibc check, since it runs only here.
///
/// # Errors
/// [`ToolkitError::Io`].
pub fn package_host(binary: &Path, zip_path: &Path) -> Result<Bundle, ToolkitError> {
    let bytes = std::fs::read(binary).map_err(|e| ToolkitError::io(binary, e))?;
    let glibc = glibc_requirement(&bytes)?;
    write_zip(&bytes, zip_path, glibc)
}

fn write_zip(
    bytes: &[u8],
    zip_path: &Path,
    glibc: Option<(u32, u32)>,
) -> Result<Bundle, ToolkitError> {
    let zip = zip_bootstrap(bytes)?;
    if let Some(dir) = zip_path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| ToolkitError::io(dir, e))?;
    }
    std::fs::write(zip_path, &zip).map_err(|e| ToolkitError::io(zip_path, e))?;
    Ok(Bundle {
        zip_path: zip_path.to_path_buf(),
        sha256: argus_cdk::assembly::sha256_hex(&zip),
        size: zip.len() as u64,
        glibc,
    })
}

/// Checks that a binary needing glibc `required` (major, minor; `None`: it links no glibc) runs
/// on Amazon Linux 2023, i.e. needs nothing newer than [`AL2023_GLIBC`]. `binary` names it in
/// the error.
///
/// # Errors
/// [`ToolkitError::Bundle`] naming the binary, the version it needs and the newest there is.
pub fn check_glibc(binary: &Path, required: Option<(u32, u32)>) -> Result<(), ToolkitError> {
    match required {
        Some(needed) if needed > AL2023_GLIBC => Err(ToolkitError::Bundle(format!(
            "{} needs glibc {}.{}, newer than Amazon Linux 2023's {}.{}",
            binary.display(),
            needed.0,
            needed.1,
            AL2023_GLIBC.0,
            AL2023_GLIBC.1
        ))),
        _ => Ok(()),
    }
}

/// A zip holding one entry, `bootstrap`, with mode 0755 and the zip epoch (1980-01-01) as its
/// time: the same bytes in, the same zip out.
///
/// # Errors
/// [`ToolkitError::Bundle`] if the zip cannot be written.
pub fn zip_bootstrap(binary: &[u8]) -> Result<Vec<u8>, ToolkitError> {
    let fail =
        |e: &dyn std::fmt::Display| ToolkitError::Bundle(format!("cannot write the zip: {e}"));
    let mut writer = ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .unix_permissions(0o755)
        .last_modified_time(DateTime::default());
    writer
        .start_file("bootstrap", options)
        .map_err(|e| fail(&e))?;
    writer.write_all(binary).map_err(|e| fail(&e))?;
    let cursor = writer.finish().map_err(|e| fail(&e))?;
    Ok(cursor.into_inner())
}

/// The newest `GLIBC_2.x` symbol version an ELF binary requires (from its dynamic string table),
/// or `None` for a static binary.
///
/// # Errors
/// [`ToolkitError::Bundle`] when the bytes are not an ELF file.
pub fn glibc_requirement(binary: &[u8]) -> Result<Option<(u32, u32)>, ToolkitError> {
    use object::{Object, ObjectSection};
    let file = object::File::parse(binary)
        .map_err(|e| ToolkitError::Bundle(format!("not an ELF binary: {e}")))?;
    let Some(dynstr) = file.section_by_name(".dynstr") else {
        return Ok(None);
    };
    let data = dynstr
        .data()
        .map_err(|e| ToolkitError::Bundle(format!("unreadable .dynstr: {e}")))?;
    Ok(data
        .split(|b| *b == 0)
        .filter_map(|s| std::str::from_utf8(s).ok()?.strip_prefix("GLIBC_"))
        .filter_map(|v| {
            let mut parts = v.split('.');
            let major = parts.next()?.parse().ok()?;
            let minor = parts.next().map_or(Some(0), |m| m.parse().ok())?;
            Some((major, minor))
        })
        .max())
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn the_host_executable_is_read_from_cargo_messages() {
        let messages = concat!(
            r#"{"reason":"compiler-artifact","target":{"name":"processor","kind":["lib"]},"executable":null}"#,
            "\n",
            r#"{"reason":"compiler-artifact","target":{"name":"api","kind":["bin"]},"executable":"/t/debug/api"}"#,
            "\n",
            "not json\n",
            r#"{"reason":"compiler-artifact","target":{"name":"processor","kind":["bin"]},"executable":"/t/debug/processor"}"#,
            "\n",
            r#"{"reason":"build-finished","success":true}"#,
        );
        assert_eq!(
            host_executable(messages.as_bytes(), "processor"),
            Some(PathBuf::from("/t/debug/processor"))
        );
        assert_eq!(host_executable(messages.as_bytes(), "worker"), None);
    }

    #[test]
    fn the_zip_holds_only_an_executable_bootstrap_and_is_deterministic() {
        let first = zip_bootstrap(b"#!binary").unwrap();
        let second = zip_bootstrap(b"#!binary").unwrap();
        assert_eq!(first, second);
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(first)).unwrap();
        assert_eq!(archive.len(), 1);
        let mut entry = archive.by_index(0).unwrap();
        assert_eq!(entry.name().unwrap(), "bootstrap");
        assert_eq!(entry.unix_mode().map(|m| m & 0o777), Some(0o755));
        assert_eq!(entry.last_modified(), Some(DateTime::default()));
        let mut body = Vec::new();
        entry.read_to_end(&mut body).unwrap();
        assert_eq!(body, b"#!binary");
    }

    #[test]
    fn different_binaries_give_different_zips() {
        assert_ne!(zip_bootstrap(b"a").unwrap(), zip_bootstrap(b"b").unwrap());
    }

    #[test]
    fn glibc_requirement_reads_the_versions_a_binary_needs() {
        // The test binary itself is a dynamically linked glibc program.
        let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let (major, minor) = glibc_requirement(&me).unwrap().unwrap();
        assert_eq!(major, 2);
        assert!(minor >= 2);
        assert!(glibc_requirement(b"not an elf").is_err());
    }

    /// A minimal 64-bit little-endian ELF shared object with no code: an ELF header and three
    /// sections (null, `.dynstr` holding `strings`, `.shstrtab`), which is all
    /// [`glibc_requirement`] reads.
    fn elf_with_dynstr(strings: &[&str]) -> Vec<u8> {
        let mut dynstr = vec![0u8];
        for s in strings {
            dynstr.extend_from_slice(s.as_bytes());
            dynstr.push(0);
        }
        let shstrtab = b"\0.dynstr\0.shstrtab\0".to_vec();
        let dynstr_offset = 64u64;
        let shstrtab_offset = dynstr_offset + dynstr.len() as u64;
        let headers_offset = (shstrtab_offset + shstrtab.len() as u64).div_ceil(8) * 8;
        let mut elf = Vec::new();
        elf.extend_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0]);
        elf.extend_from_slice(&[0; 8]);
        elf.extend_from_slice(&3u16.to_le_bytes()); // e_type: ET_DYN
        elf.extend_from_slice(&62u16.to_le_bytes()); // e_machine: x86-64
        elf.extend_from_slice(&1u32.to_le_bytes()); // e_version
        elf.extend_from_slice(&0u64.to_le_bytes()); // e_entry
        elf.extend_from_slice(&0u64.to_le_bytes()); // e_phoff
        elf.extend_from_slice(&headers_offset.to_le_bytes()); // e_shoff
        elf.extend_from_slice(&0u32.to_le_bytes()); // e_flags
        for half in [64u16, 56, 0, 64, 3, 2] {
            // e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx
            elf.extend_from_slice(&half.to_le_bytes());
        }
        assert_eq!(elf.len(), 64);
        elf.extend_from_slice(&dynstr);
        elf.extend_from_slice(&shstrtab);
        elf.resize(usize::try_from(headers_offset).unwrap(), 0);
        let mut section = |name: u32, kind: u32, flags: u64, offset: u64, size: u64| {
            elf.extend_from_slice(&name.to_le_bytes());
            elf.extend_from_slice(&kind.to_le_bytes());
            elf.extend_from_slice(&flags.to_le_bytes());
            elf.extend_from_slice(&0u64.to_le_bytes()); // sh_addr
            elf.extend_from_slice(&offset.to_le_bytes());
            elf.extend_from_slice(&size.to_le_bytes());
            elf.extend_from_slice(&0u32.to_le_bytes()); // sh_link
            elf.extend_from_slice(&0u32.to_le_bytes()); // sh_info
            elf.extend_from_slice(&1u64.to_le_bytes()); // sh_addralign
            elf.extend_from_slice(&0u64.to_le_bytes()); // sh_entsize
        };
        section(0, 0, 0, 0, 0);
        // SHT_STRTAB = 3, SHF_ALLOC = 2; names are offsets into .shstrtab.
        section(1, 3, 2, dynstr_offset, dynstr.len() as u64);
        section(9, 3, 0, shstrtab_offset, shstrtab.len() as u64);
        elf
    }

    #[test]
    fn a_bundle_needing_a_glibc_newer_than_al2023_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let binary = dir.path().join("bootstrap");
        std::fs::write(
            &binary,
            elf_with_dynstr(&["libc.so.6", "GLIBC_2.2.5", "GLIBC_2.38", "GLIBC_2.34"]),
        )
        .unwrap();
        assert_eq!(
            glibc_requirement(&std::fs::read(&binary).unwrap()).unwrap(),
            Some((2, 38))
        );
        let zip = dir.path().join("out").join("bootstrap.zip");
        let Err(ToolkitError::Bundle(message)) = package(&binary, &zip) else {
            panic!("a binary needing glibc 2.38 must be refused");
        };
        assert!(
            message.contains("needs glibc 2.38, newer than Amazon Linux 2023's 2.34"),
            "{message}"
        );
        assert!(message.contains("bootstrap"), "{message}");
        assert!(!zip.exists(), "no zip is written for a refused binary");
    }

    #[test]
    fn a_bundle_needing_at_most_al2023_glibc_is_packaged() {
        let dir = tempfile::tempdir().unwrap();
        let binary = dir.path().join("bootstrap");
        std::fs::write(
            &binary,
            elf_with_dynstr(&["libc.so.6", "GLIBC_2.2.5", "GLIBC_2.34"]),
        )
        .unwrap();
        let zip = dir.path().join("bootstrap.zip");
        let bundle = package(&binary, &zip).unwrap();
        assert_eq!(bundle.glibc, Some(AL2023_GLIBC));
        assert!(zip.exists());
    }

    #[test]
    fn check_glibc_allows_up_to_al2023_and_refuses_anything_newer() {
        let binary = Path::new("target/lambda/processor/bootstrap");
        for ok in [None, Some((2, 17)), Some(AL2023_GLIBC)] {
            check_glibc(binary, ok).unwrap();
        }
        for newer in [(2, 35), (2, 38), (3, 0)] {
            let Err(ToolkitError::Bundle(message)) = check_glibc(binary, Some(newer)) else {
                panic!("glibc {newer:?} must be refused");
            };
            assert!(
                message.contains(&format!("needs glibc {}.{}", newer.0, newer.1)),
                "{message}"
            );
            assert!(
                message.contains("target/lambda/processor/bootstrap"),
                "{message}"
            );
        }
    }
}
