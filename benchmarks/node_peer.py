"""The Node peer of the benchmarks: openapi-mcp-generator 4.0.1 (npm, pinned in benchmarks/node), whose
generated TypeScript project is built as its README says (`openapi-mcp-generator --input SPEC --output DIR`,
`npm install`, `tsc`) and run with `node build/index.js` over stdio, the upstream given as API_BASE_URL.

Projects are built under build/bench-node/, once per spec (a stamp holds the spec's SHA-256)."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GENERATOR_DIR = REPO / "benchmarks" / "node"
PROJECTS = REPO / "build" / "bench-node"
LABEL = "openapi-mcp-generator 4.0.1"
# Node's JIT settles only after thousands of calls; measured before that, the peer would look slower than it is.
WARMUP_CALLS = 5000


def _npm(*arguments: str, cwd: Path) -> None:
    subprocess.run(["npm", *arguments, "--no-audit", "--no-fund", "--loglevel=error"], cwd=cwd, check=True,
                   capture_output=True, timeout=600)


def build_project(spec: Path, name: str) -> Path:
    """The built project of `spec` (generated and compiled unless the stamp says it already is)."""
    if not (GENERATOR_DIR / "node_modules" / ".bin" / "openapi-mcp-generator").exists():
        _npm("ci", cwd=GENERATOR_DIR)
    project = PROJECTS / name
    stamp = project / ".spec-sha256"
    digest = hashlib.sha256(spec.read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest and (project / "build" / "index.js").exists():
        return project
    shutil.rmtree(project, ignore_errors=True)
    project.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([str(GENERATOR_DIR / "node_modules" / ".bin" / "openapi-mcp-generator"), "--input", str(spec),
                    "--output", str(project), "--base-url", "http://127.0.0.1:9"],
                   check=True, capture_output=True, timeout=600)
    _npm("install", cwd=project)
    subprocess.run([str(project / "node_modules" / ".bin" / "tsc")], cwd=project, check=True, capture_output=True,
                   timeout=600)
    stamp.write_text(digest)
    return project


def command(project: Path) -> list[str]:
    return ["node", str(project / "build" / "index.js")]


def environment(upstream_url: str) -> dict[str, str]:
    return {"API_BASE_URL": upstream_url}
