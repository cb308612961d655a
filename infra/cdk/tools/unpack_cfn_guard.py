#!/usr/bin/env python3
"""Unpacks what Argus uses of the PyPI wheel `cdklabs-cdk-validator-cfnguard` installed in a
virtualenv: AWS Control Tower's proactive controls (cfn-guard rules) into `<venv>/control-tower/`
and the `cfn-guard` binary for this machine into `<venv>/bin/cfn-guard`. Both ship inside the
wheel's jsii tarball; nothing is downloaded.

    python infra/cdk/tools/unpack_cfn_guard.py .venv/guard
"""
import pathlib
import platform
import shutil
import sys
import tarfile

venv = pathlib.Path(sys.argv[1])
tarballs = list(venv.glob("lib/python*/site-packages/cdklabs/cdk_validator_cfnguard/_jsii/*.tgz"))
if len(tarballs) != 1:
    sys.exit(f"expected one cdk-validator-cfnguard tarball under {venv}, found {tarballs}")
arch = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}[
    platform.machine().lower()
]
binary = f"package/bin/ubuntu/{arch}/cfn-guard"
rules_prefix = "package/rules/control-tower/cfn-guard/"
rules_dir = venv / "control-tower"
shutil.rmtree(rules_dir, ignore_errors=True)
count = 0
with tarfile.open(tarballs[0]) as tar:
    for member in tar.getmembers():
        if member.isfile() and member.name.startswith(rules_prefix) and member.name.endswith(".guard"):
            dest = rules_dir / member.name[len(rules_prefix):]
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(tar.extractfile(member).read())
            count += 1
        elif member.name == binary:
            dest = venv / "bin" / "cfn-guard"
            dest.write_bytes(tar.extractfile(member).read())
            dest.chmod(0o755)
print(f"unpacked cfn-guard ({arch}) and {count} Control Tower rules into {venv}")
