"""`make vendor`: refresh include/static/vendor/ from the npm registry, pinned by its manifest."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

# The files are committed: reports never fetch them at run time, a deployment needs no registry.
VENDOR = Path(__file__).resolve().parents[1] / "include" / "static" / "vendor"
MANIFEST = VENDOR / "manifest.json"


def libraries() -> dict[str, dict]:
    """The manifest's libraries by folder name (keys starting with `_` are notes)."""
    return {name: lib for name, lib in json.loads(MANIFEST.read_text()).items()
            if not name.startswith("_")}


def refresh(name: str, lib: dict, scratch: Path) -> None:
    """Replace vendor/<name>/ with the listed files of the pinned package.

    A LICENSE.txt written by hand (for a package that ships none) is kept.
    """
    spec = f"{lib['package']}@{lib['version']}"
    packed = subprocess.run(["npm", "pack", spec, "--silent", "--pack-destination", str(scratch)],
                            check=True, capture_output=True, text=True).stdout.split()[-1]
    unpacked = scratch / name
    with tarfile.open(scratch / packed) as tar:
        tar.extractall(unpacked, filter="data")
    target = VENDOR / name
    kept = {} if "LICENSE.txt" in lib["files"].values() or not (target / "LICENSE.txt").exists() \
        else {"LICENSE.txt": (target / "LICENSE.txt").read_bytes()}
    shutil.rmtree(target, ignore_errors=True)
    for source, dest in lib["files"].items():
        (target / dest).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(unpacked / "package" / source, target / dest)
    for dest, content in kept.items():
        (target / dest).write_bytes(content)
    print(f"vendor: {name} {lib['version']} ({lib['license']})")


def main() -> int:
    with tempfile.TemporaryDirectory() as scratch:
        for name, lib in libraries().items():
            refresh(name, lib, Path(scratch))
    return 0


if __name__ == "__main__":
    sys.exit(main())
