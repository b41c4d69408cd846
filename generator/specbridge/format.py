"""format: ruff on generated Python, in one batch however many files (two ruff runs in all).

The files are written to a private temporary folder with a fixed configuration (`--config`), so the result
depends on nothing in the user's environment: imports sorted (`ruff check --select I --fix`), then
`ruff format`. Ruff runs from this interpreter's environment, with argument lists, never a shell.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath

LINE_LENGTH = 120
_TIMEOUT_S = 300


class FormatError(RuntimeError):
    """ruff failed on generated source: a bug of the generator, never a problem of the input."""


def format_python(files: Mapping[str, str], *, first_party: Iterable[str] = ()) -> dict[str, str]:
    """`files` (relative POSIX path -> Python source) formatted; `first_party`: import names isort keeps
    in their own section (the generated packages)."""
    if not files:
        return {}
    with tempfile.TemporaryDirectory(prefix="specbridge-format-") as folder:
        root = Path(folder)
        config = root / "ruff.toml"
        known = ", ".join(f'"{name}"' for name in sorted(set(first_party)) if name.isidentifier())
        config.write_text(
            f'line-length = {LINE_LENGTH}\ntarget-version = "py311"\nrespect-gitignore = false\n'
            f"[lint.isort]\nknown-first-party = [{known}]\n",
            encoding="utf-8",
        )
        tree = root / "files"
        paths = {}
        for name, text in files.items():
            relative = PurePosixPath(name)
            if relative.is_absolute() or ".." in relative.parts or relative.suffix != ".py":
                raise ValueError(f"not a relative Python file name: {name!r}")
            path = tree.joinpath(*relative.parts)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", newline="")
            paths[name] = path
        common = ["--config", str(config), "--no-cache", "--quiet"]
        _ruff("check", *common, "--select", "I", "--fix", "--exit-zero", str(tree))
        _ruff("format", *common, str(tree))
        return {name: path.read_text(encoding="utf-8") for name, path in paths.items()}


def _ruff(*arguments: str) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "ruff", *arguments], capture_output=True, text=True, timeout=_TIMEOUT_S, check=False
    )
    if completed.returncode != 0:
        detail = (completed.stderr or completed.stdout).strip()[-2000:]
        raise FormatError(f"ruff {arguments[0]} failed on generated source: {detail}")
