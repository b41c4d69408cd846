"""Stripe as one server: generation time, process start to the first tools/list answer, the size of that
answer and the server's peak memory, for specbridge and for FastMCP 4.1.6 `from_openapi` on the same spec,
measured in the same run; the server CPU time from start to the first tools/list against openapi-mcp-generator
4.0.1 (npm, its generated project built with tsc and run with node), in alternating rounds; plus the time to
generate GitHub's spec split by tag.

    python benchmarks/bench_startup.py [--skip-fastmcp] [--skip-github] [--skip-node] [--rounds 3]

Servers are driven over stdio by a minimal JSON-RPC client so the figures are the servers', not a client's.
The generated package and the runtime are compiled to bytecode first, as `pip install` leaves them: else,
with PYTHONDONTWRITEBYTECODE set, every start would compile Stripe's `tools.py` (380 KB) and the runtime again.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script or imported by tests
from benchmarks import node_peer

REPO = Path(__file__).resolve().parent.parent
SPECS = Path(os.environ.get("SPECBRIDGE_SHARED", REPO.parent / "shared")) / "specs"
STRIPE = SPECS / "stripe-spec3-2023-09.yaml"
GITHUB = SPECS / "github-api.github.com.json"
BIN = Path(sys.executable).parent
TIMEOUT_S = 300.0

FASTMCP_SERVER = """
import sys, yaml, httpx2
from fastmcp import FastMCP
spec = yaml.load(open(sys.argv[1]), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
client = httpx2.AsyncClient(base_url="http://127.0.0.1:9")
FastMCP.from_openapi(openapi_spec=spec, client=client, name="stripe").run(show_banner=False)
"""


@dataclass(frozen=True)
class Startup:
    first_list_s: float
    cpu_s: float  # the server's CPU time (user + system, all threads) from its start to the first tools/list
    first_call_cpu_s: float  # ... and to the answer of the first tools/call after it (Stripe's GetAccount)
    list_bytes: int
    tools: int
    peak_rss_mb: float


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def measure_startup(command: list[str], env: dict[str, str]) -> Startup:
    started = time.perf_counter()
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               env={**os.environ, **env})
    assert process.stdin is not None and process.stdout is not None

    def send(message: dict[str, object]) -> None:
        assert process.stdin is not None
        process.stdin.write(json.dumps(message).encode() + b"\n")
        process.stdin.flush()

    def answer(request_id: int) -> bytes:
        assert process.stdout is not None
        while True:
            line = process.stdout.readline()
            if not line:
                raise RuntimeError(f"{command[0]} exited before answering")
            if json.loads(line).get("id") == request_id:
                return line

    try:
        send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}}})
        answer(1)
        send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        send({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
        listed = answer(2)
        elapsed = time.perf_counter() - started
        cpu = cpu_s(process.pid)
        names = [tool["name"] for tool in json.loads(listed)["result"]["tools"]]
        # The same operation on every server, whatever each names it (Stripe's GetAccount; the first tool of
        # another spec); the upstream refuses the connection.
        first = next((name for name in names if "".join(filter(str.isalnum, name.lower())).endswith("getaccount")),
                     names[0])
        send({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": first, "arguments": {}}})
        answer(3)
        return Startup(elapsed, cpu, cpu_s(process.pid), len(listed), len(names), peak_rss_mb(process.pid))
    finally:
        process.kill()
        process.wait()


def compile_bytecode(*folders: Path) -> None:
    subprocess.run([sys.executable, "-m", "compileall", "-q", *map(str, folders)], check=True, capture_output=True,
                   timeout=TIMEOUT_S)


def runtime_folder() -> Path:
    spec = importlib.util.find_spec("specbridge_runtime")
    assert spec is not None and spec.origin is not None, "specbridge-runtime is not installed"
    return Path(spec.origin).parent


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, timeout=TIMEOUT_S)
    return time.perf_counter() - started


def report(label: str, ours: float, theirs: float | None, unit: str, target: str) -> None:
    ratio = f"{theirs / ours:8.1f}x better" if theirs else ""
    peer = f"{theirs:10.2f} {unit}" if theirs is not None else "         -"
    print(f"{label:34} {ours:10.2f} {unit}  {peer}  {ratio}   target {target}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-fastmcp", action="store_true")
    parser.add_argument("--skip-github", action="store_true")
    parser.add_argument("--skip-node", action="store_true", help=f"skip {node_peer.LABEL}")
    parser.add_argument("--rounds", type=int, default=3, help="alternating start-up rounds against the Node peer")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "stripe"
        gen_s = timed([str(BIN / "specbridge"), "gen", str(STRIPE), "-o", str(out), "--name", "stripe",
                       "--max-operations", "1000"])
        compile_bytecode(out / "src", runtime_folder())
        ours_command = ([sys.executable, "-m", "stripe_mcp"], {"PYTHONPATH": str(out / "src"), "SPECBRIDGE_HOME": tmp})
        ours = measure_startup(*ours_command)
        node_rounds: dict[str, list[Startup]] = {}
        if not args.skip_node:
            project = node_peer.build_project(STRIPE, "stripe")
            node_command = (node_peer.command(project), node_peer.environment("http://127.0.0.1:9"))
            node_rounds = {"specbridge": [], node_peer.LABEL: []}
            for _ in range(args.rounds):  # alternating, so a change of load touches both
                node_rounds["specbridge"].append(measure_startup(*ours_command))
                node_rounds[node_peer.LABEL].append(measure_startup(*node_command))
        theirs = None
        if not args.skip_fastmcp:
            theirs = measure_startup([sys.executable, "-c", FASTMCP_SERVER, str(STRIPE)], {})
        github_s, github_packages = None, 0
        if not args.skip_github:
            github_s = timed([str(BIN / "specbridge"), "gen", str(GITHUB), "-o", str(Path(tmp) / "github"),
                              # Three of GitHub's tags (repos: 204) exceed the default 100 per package.
                              "--name", "github", "--split-by", "tag", "--max-operations", "250"])
            github_packages = len(list((Path(tmp) / "github").glob("*/pyproject.toml")))

    print(f"Stripe ({ours.tools} tools{f', FastMCP {theirs.tools}' if theirs else ''}), 2 cores; "
          f"columns: specbridge, FastMCP 4.1.6, ratio")
    report("start to first tools/list", ours.first_list_s, theirs and theirs.first_list_s, "s ", "<= 1.5 s")
    report("tools/list size", ours.list_bytes / 1e6, theirs and theirs.list_bytes / 1e6, "MB", "<= 10 MB")
    report("server peak memory", ours.peak_rss_mb, theirs and theirs.peak_rss_mb, "MB", "<= 300 MB")
    report("generate Stripe (one package)", gen_s, None, "s ", "<= 60 s")
    if github_s is not None:
        report(f"generate GitHub (by tag: {github_packages} pkgs)", github_s, None, "s ", "<= 120 s")
    if node_rounds:
        print(f"Stripe start-up against {node_peer.LABEL}, {args.rounds} alternating rounds (median; all rounds)")
        medians, calls = {}, {}
        for label, rounds in node_rounds.items():
            medians[label] = statistics.median(startup.cpu_s for startup in rounds)
            each = " ".join(f"{startup.cpu_s:.3f}" for startup in rounds)
            wall = statistics.median(startup.first_list_s for startup in rounds)
            print(f"  {label:32} server CPU to first tools/list {medians[label]:.3f} s (wall {wall:.3f} s)   {each}")
            calls[label] = statistics.median(startup.first_call_cpu_s for startup in rounds)
            each = " ".join(f"{startup.first_call_cpu_s:.3f}" for startup in rounds)
            print(f"  {'':32} ... and to its first tools/call {calls[label]:.3f} s   {each}")
        ratio = medians["specbridge"] / medians[node_peer.LABEL]
        print(f"  start-up CPU specbridge / {node_peer.LABEL}: {ratio:.2f}x (target <= 1.0x)")
        ratio = calls["specbridge"] / calls[node_peer.LABEL]
        print(f"  start to first call, CPU specbridge / {node_peer.LABEL}: {ratio:.2f}x")


if __name__ == "__main__":
    main()
