"""Regenerate the Python modules for the API from ``proto/omniroute/v1/*.proto``.

Run ``make proto`` (or ``python -m server.proto_gen``). The generated ``*_pb2*.py`` and
``*.pyi`` files live next to the ``.proto`` files and are committed, so that ``pip install``
from a fresh clone needs no generation step; ``tests/test_proto_gen.py`` fails when they are
stale.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PROTO_ROOT = Path(__file__).resolve().parent.parent / "proto"
PACKAGE_DIR = PROTO_ROOT / "omniroute" / "v1"
GENERATED_GLOBS = ("*_pb2.py", "*_pb2.pyi", "*_pb2_grpc.py")


def _include_paths() -> list[str]:
    """proto/ (with the vendored google/rpc protos) and the well-known types of grpc_tools."""
    import grpc_tools

    return [str(PROTO_ROOT), str(Path(grpc_tools.__file__).parent / "_proto")]


def generate(out_root: Path) -> list[Path]:
    """Generate the modules under ``out_root/omniroute/v1``; return the files written."""
    protos = sorted(str(p.relative_to(PROTO_ROOT)) for p in PACKAGE_DIR.glob("*.proto"))
    # protoc runs in its own process: in-process it can abort when OR-Tools' protobuf runtime
    # is loaded in the same interpreter.
    args = [sys.executable, "-m", "grpc_tools.protoc"]
    args += [f"-I{path}" for path in _include_paths()]
    args += [f"--python_out={out_root}", f"--pyi_out={out_root}"]
    args += [f"--grpc_python_out={out_root}", *protos]
    if subprocess.run(args, check=False).returncode != 0:
        raise RuntimeError("protoc failed; see the messages above")
    out_dir = out_root / "omniroute" / "v1"
    return sorted(p for pattern in GENERATED_GLOBS for p in out_dir.glob(pattern))


def main() -> int:
    """Regenerate in place, replacing the committed modules."""
    with tempfile.TemporaryDirectory() as tmp:
        written = generate(Path(tmp))
        for old in (p for pattern in GENERATED_GLOBS for p in PACKAGE_DIR.glob(pattern)):
            old.unlink()
        for path in written:
            shutil.copy(path, PACKAGE_DIR / path.name)
    print(f"generated {len(written)} files in {PACKAGE_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
