"""Regenerate the Python modules for the API from ``proto/omniroute/v1/*.proto``.

Run ``make proto`` (or ``python -m omniroute.server.proto_gen``). The generated
``*_pb2*.py`` and ``*.pyi`` files live next to the ``.proto`` files and are committed, so
that ``pip install`` from a fresh clone needs no generation step; ``tests/test_proto_gen.py``
fails when they are stale.

Only ``omniroute/v1`` is generated. The Google API protos it imports are vendored, unmodified,
under ``proto/google`` (so that other languages can compile ``proto/`` alone; see
``proto/google/README.md``); their Python modules come from ``googleapis-common-protos``.
``main`` warns when a vendored copy differs from the proto that package installed.
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
VENDORED_DIR = PROTO_ROOT / "google"
# A vendored proto's file in googleapis-common-protos when it is not the same path (the
# package ships google/longrunning/operations.proto as operations_proto.proto).
INSTALLED_NAMES = {"longrunning/operations.proto": "longrunning/operations_proto.proto"}


def _include_paths() -> list[str]:
    """proto/ first (omniroute/v1 and the vendored google/api, google/longrunning and
    google/rpc protos it imports), then the protobuf well-known types of grpc_tools."""
    import grpc_tools

    return [str(PROTO_ROOT), str(Path(grpc_tools.__file__).parent / "_proto")]


def vendored_drift() -> list[str]:
    """Vendored Google protos that differ from (or are missing in) googleapis-common-protos,
    whose Python modules the generated code imports; empty when they are the same."""
    from google.api import field_behavior_pb2

    installed = Path(field_behavior_pb2.__file__).resolve().parent.parent  # .../google
    drift = []
    for path in sorted(VENDORED_DIR.rglob("*.proto")):
        name = path.relative_to(VENDORED_DIR).as_posix()
        source = installed / INSTALLED_NAMES.get(name, name)
        if not source.is_file() or source.read_bytes() != path.read_bytes():
            drift.append(f"google/{name}")
    return drift


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
    for name in vendored_drift():
        print(
            f"warning: proto/{name} differs from the installed googleapis-common-protos; "
            "copy it again (proto/google/README.md)",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
