"""Type-check every package with mypy, as installed: ``make lint`` runs this.

The repository maps its folders into the one package ``omniroute`` (``engine/`` is the
package itself, ``server/``, ``ledger/`` and ``proto/omniroute/v1/`` its subpackages; see
``[tool.setuptools.package-dir]`` in pyproject.toml). mypy cannot follow that mapping, so
this builds the installed layout from symbolic links in ``.typecheck/`` and checks it
there, with the benchmarks, examples and tools beside it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FARM = ROOT / ".typecheck"


def build() -> Path:
    """The installed layout of ``omniroute`` as links into the repository."""
    mapping = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-dir"
    ]
    shutil.rmtree(FARM, ignore_errors=True)
    for package, folder in sorted(mapping.items()):
        target = FARM.joinpath(*package.split("."))
        target.mkdir(parents=True, exist_ok=True)
        for source in sorted((ROOT / folder).iterdir()):
            if source.suffix in (".py", ".pyi") or source.name == "py.typed":
                (target / source.name).symlink_to(source)
    for extra in ("benchmarks", "examples", "tools"):
        (FARM / extra).symlink_to(ROOT / extra, target_is_directory=True)
    return FARM


def main() -> int:
    farm = build()
    command = [
        sys.executable,
        "-m",
        "mypy",
        "--config-file",
        str(ROOT / "pyproject.toml"),
        "omniroute",
        "benchmarks",
        *(str(p.relative_to(ROOT)) for p in sorted((ROOT / "examples").glob("*.py"))),
        "tools/typecheck.py",
    ]
    return subprocess.run(command, cwd=farm, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
