"""The three ways to serve a huge API, compared on Stripe (468 operations) and GitHub (1,223): one tool per
operation with loose output schemas (the default), one tool per operation without output schemas, and
`--tools dynamic`. Each package is generated from ../shared/specs, started as a process and asked for
tools/list over stdio; the figures (tools, bytes, time to the first tools/list) are printed for the README,
and what the modes promise is asserted: complete input schemas, Stripe within 1.5 MB with loose output
schemas, and at most 10 KB in dynamic mode."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from specbridge import cli

from benchmarks.bench_startup import Startup, measure_startup
from tests.support import SHARED_SPECS

SPECS = {"stripe": "stripe-spec3-2023-09.yaml", "github": "github-api.github.com.json"}
MODES = {"loose": [], "none": ["--output-schemas", "none"], "dynamic": ["--tools", "dynamic"]}

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    not all((SHARED_SPECS / file).is_file() for file in SPECS.values()),
    reason=f"the real-world specs (Stripe, GitHub) are not in {SHARED_SPECS}")]


def generate(tmp: Path, api: str, mode: str) -> Path:
    out = tmp / f"{api}-{mode}" / api
    assert cli.main(["gen", str(SHARED_SPECS / SPECS[api]), "-o", str(out), "--name", api,
                     "--max-operations", "2000", *MODES[mode]]) == 0
    return out


def listed(out: Path, api: str, home: Path) -> tuple[Startup, list[dict[str, object]]]:
    """Start the package's server and read its first tools/list answer."""
    figures = measure_startup([sys.executable, "-m", f"{api}_mcp"],
                              {"PYTHONPATH": str(out / "src"), "SPECBRIDGE_HOME": str(home)})
    return figures, json.loads((out / "src" / f"{api}_mcp" / "tools.json").read_text())


@pytest.mark.parametrize("api", sorted(SPECS))
def test_the_three_modes(api: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = {}
    for mode in MODES:
        out = generate(tmp_path, api, mode)
        figures, tools = listed(out, api, tmp_path)
        rows[mode] = figures
        if mode == "dynamic":
            catalog = json.loads((out / "src" / f"{api}_mcp" / "operations.json").read_text())
            assert figures.tools == 3
            assert figures.list_bytes <= 10_000
            operations = len(catalog["operations"])
        else:
            assert figures.tools == len(tools)
            # Complete input schemas in every mode: what is listed is what the models validate (the contract
            # tests of each package check them against the models), and `none` drops only output schemas.
            assert all("inputSchema" in tool for tool in tools)
            if mode == "none":
                assert not any("outputSchema" in tool for tool in tools)
    assert rows["loose"].tools == rows["none"].tools == operations
    if api == "stripe":
        assert rows["loose"].list_bytes <= 1_500_000
    assert rows["none"].list_bytes < rows["loose"].list_bytes
    with capsys.disabled():
        print(f"\n{api}: {operations} operations")
        for mode, figures in rows.items():
            print(f"  {mode:8} {figures.tools:5} tools  {figures.list_bytes:>10,} bytes  "
                  f"first tools/list after {figures.first_list_s:.2f} s")
