"""An MCP Bundle (`.mcpb`, the format of the `@anthropic-ai/mcpb` CLI) of a generated package.

The bundle is a zip: `manifest.json` (manifest version 0.3, a `python` server), `server/main.py` (the
entry point: puts `server/lib` first on `sys.path` and runs the package's command) and `server/lib` (the
package and every dependency, installed there by pip, so the bundle runs on a bare Python interpreter).
What the server reads from its environment comes from the package's `server.json` (written by
`specbridge gen`): each variable becomes a `user_config` entry (`sensitive` for credentials) that
`mcp_config.env` maps to it. Compiled dependencies (pydantic-core, cryptography) tie the bundle to this
platform and Python minor version; the manifest's `compatibility` says so.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import codes
from .diagnostics import Diagnostic, Level
from .escape import Identifier, json_text, py_literal
from .registry_file import read_server_file
from .server_json import ServerDetail

MANIFEST_VERSION = "0.3"
ENTRY_POINT = "server/main.py"
LIB = "server/lib"
_COMPILED = (".so", ".pyd", ".dylib")
_PLATFORMS = {"linux": "linux", "darwin": "darwin", "win32": "win32"}
_MIN_PYTHON = (3, 11)
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed, so the same inputs give the same bundle
_PIP_EXCERPT = 1500
STATE_VARIABLE = "SPECBRIDGE_HOME"


@dataclass(frozen=True, slots=True)
class BundleResult:
    path: Path | None
    manifest: dict[str, Any] | None
    diagnostics: tuple[Diagnostic, ...]


@dataclass(frozen=True, slots=True)
class _Package:
    distribution: str
    module: str
    function: str
    server: ServerDetail
    tools: list[dict[str, str]]


def build_bundle(package_dir: Path, output: Path, *, pip_args: Sequence[str] = (), author: str = "specbridge",
                 python: str = sys.executable) -> BundleResult:
    """Write the bundle of the generated package in `package_dir` to `output`; `pip_args` are added to the
    `pip install` of its dependencies (`--find-links DIR`, `--no-index`)."""
    found = _read_package(package_dir)
    if isinstance(found, tuple):
        return BundleResult(None, None, found)
    with tempfile.TemporaryDirectory(prefix="specbridge-bundle-") as staging:
        root = Path(staging)
        problem = _install(package_dir, root / LIB, pip_args, python)
        if problem is not None:
            return BundleResult(None, None, (problem,))
        compiled = any(path.suffix in _COMPILED for path in (root / LIB).rglob("*"))
        manifest = bundle_manifest(found, author=author, compiled=compiled)
        (root / ENTRY_POINT).write_text(_entry_point(found), encoding="utf-8")
        (root / "manifest.json").write_text(json_text(manifest), encoding="utf-8")
        try:
            output.parent.mkdir(parents=True, exist_ok=True)
            _zip(root, output)
        except OSError as error:
            return BundleResult(None, None, (Diagnostic(Level.ERROR, codes.BUNDLE_WRITE_FAILED,
                                                        f"cannot write the bundle: {error.strerror or error}", "",
                                                        str(output)),))
    return BundleResult(output, manifest, ())


def _read_package(package_dir: Path) -> _Package | tuple[Diagnostic, ...]:
    def refused(message: str, where: str) -> tuple[Diagnostic, ...]:
        return (Diagnostic(Level.ERROR, codes.BUNDLE_NOT_A_PACKAGE, message, "", where),)

    pyproject = package_dir / "pyproject.toml"
    try:
        project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
        distribution = str(project["name"])
        target = str(project["scripts"][distribution])
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, KeyError, TypeError) as error:
        return refused(f"not the pyproject.toml of a generated package ({type(error).__name__}: {error})",
                       str(pyproject))
    module, _, function = target.partition(":")
    if not all(_is_dotted(name) for name in (module, function)):
        return refused(f"the command {distribution!r} does not name a module:function", str(pyproject))
    read = read_server_file(str(package_dir / "server.json"), cwd=Path.cwd())
    if read.server is None or any(d.level is Level.ERROR for d in read.diagnostics):
        hint = (Diagnostic(Level.ERROR, codes.BUNDLE_NOT_A_PACKAGE,
                           "the package has no valid server.json: run `specbridge gen` again", "",
                           str(package_dir)),)
        return read.diagnostics + hint
    return _Package(distribution, module, function, read.server, _tools(package_dir, module))


def _is_dotted(name: str) -> bool:
    try:
        return all(Identifier(part) for part in name.split("."))
    except ValueError:
        return False


def _tools(package_dir: Path, module: str) -> list[dict[str, str]]:
    """The tools of a REST package (`tools.json`), for the manifest; a wrapper's are known only when it runs."""
    path = package_dir / "src" / module.split(".")[0] / "tools.json"
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [{"name": str(entry["name"]), "description": _first_line(str(entry.get("description", "")))}
            for entry in entries if isinstance(entry, dict) and "name" in entry]


def _first_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= 200 else line[:199] + "…"


def _install(package_dir: Path, lib: Path, pip_args: Sequence[str], python: str) -> Diagnostic | None:
    command = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
               "--no-warn-script-location", "--target", str(lib), *pip_args, str(package_dir.resolve())]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        excerpt = completed.stderr.strip()[-_PIP_EXCERPT:] or completed.stdout.strip()[-_PIP_EXCERPT:]
        return Diagnostic(Level.ERROR, codes.BUNDLE_INSTALL_FAILED,
                          f"pip install --target failed (exit {completed.returncode}); if specbridge-runtime is "
                          f"not on your package index, pass --find-links DIR with its wheel: {excerpt}", "",
                          str(package_dir))
    # Console scripts name the interpreter that built the bundle: no use anywhere else.
    for script in sorted((lib / "bin").glob("*")) if (lib / "bin").is_dir() else []:
        script.unlink()
    return None


def bundle_manifest(package: _Package, *, author: str, compiled: bool) -> dict[str, Any]:
    server = package.server
    entry = next((p for p in server.packages if p.registry_type == "pypi"), None)
    variables = entry.environment_variables if entry is not None else ()
    user_config: dict[str, Any] = {}
    # State (vault, audit) in the user's home as everywhere else, said explicitly since clients differ in
    # what environment they pass on.
    env = {"PYTHONPATH": f"${{__dirname}}/{LIB}", STATE_VARIABLE: "${HOME}/.specbridge"}
    for variable in variables:
        key = re.sub(r"[^a-z0-9_]", "_", variable.name.lower())
        option: dict[str, Any] = {"type": "string", "title": variable.name,
                                  "description": variable.description or variable.name,
                                  "required": variable.is_required, "sensitive": variable.is_secret}
        if variable.default is not None or not variable.is_required:
            # An optional value left empty must reach the server empty (read as unset), not as `${...}`.
            option["default"] = variable.default or ""
        user_config[key] = option
        env[variable.name] = f"${{user_config.{key}}}"
    major, minor = sys.version_info[:2]
    compatibility: dict[str, Any] = (
        {"platforms": [_PLATFORMS.get(sys.platform, sys.platform)],
         "runtimes": {"python": f">={major}.{minor},<{major}.{minor + 1}"}}
        if compiled else
        {"platforms": sorted(_PLATFORMS.values()), "runtimes": {"python": ">={}.{}".format(*_MIN_PYTHON)}}
    )
    manifest: dict[str, Any] = {
        "manifest_version": MANIFEST_VERSION,
        "name": package.distribution,
        "display_name": server.title or package.distribution,
        "version": server.version,
        "description": server.description,
        "author": {"name": author},
        "server": {
            "type": "python",
            "entry_point": ENTRY_POINT,
            "mcp_config": {"command": "python", "args": [f"${{__dirname}}/{ENTRY_POINT}"], "env": env},
        },
        "compatibility": compatibility,
    }
    if package.tools:
        manifest["tools"] = package.tools
    else:
        manifest["tools_generated"] = True
    if user_config:
        manifest["user_config"] = user_config
    return manifest


def _entry_point(package: _Package) -> str:
    return (
        '"""Entry point of the MCP Bundle: the package\'s command, run from the packages vendored in lib/."""\n\n'
        "import os\nimport sys\n\n"
        'sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))\n\n'
        f"from {package.module} import {package.function} as main  # noqa: E402\n\n"
        f"sys.argv[0] = {py_literal(package.distribution)}\n"
        "main()\n"
    )


def _zip(root: Path, output: Path) -> None:
    files = sorted(path for path in root.rglob("*") if path.is_file() and "__pycache__" not in path.parts)
    partial = output.with_name(output.name + ".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for path in files:
            info = zipfile.ZipInfo(path.relative_to(root).as_posix(), date_time=_ZIP_DATE)
            info.external_attr = (0o755 if os.access(path, os.X_OK) else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    partial.replace(output)
