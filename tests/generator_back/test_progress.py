"""Long runs say how far they are on a terminal (a line per stage, a bar for the input schemas) and stay
quiet otherwise; the pipeline only reports values, the CLI prints."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from specbridge import cli
from specbridge.options import GenOptions
from specbridge.pipeline import generate, inspect
from specbridge.progress import TerminalProgress

from tests.generator_back.test_cli import PETS


class Recorder:
    def __init__(self) -> None:
        self.stages: list[tuple[str, str]] = []
        self.steps: list[tuple[str, int, int]] = []

    def stage(self, name: str, detail: str) -> None:
        self.stages.append((name, detail))

    def step(self, name: str, done: int, total: int) -> None:
        self.steps.append((name, done, total))


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "pets.json"
    path.write_text(json.dumps(PETS))
    return path


def test_the_pipeline_reports_each_stage_with_counts_and_each_schema(spec: Path, tmp_path: Path) -> None:
    recorder = Recorder()
    result = generate(str(spec), GenOptions(name="pets"), cwd=tmp_path, progress=recorder)
    assert len(result.packages) == 1
    assert [name for name, _ in recorder.stages] == ["load", "validate", "normalize", "models", "schemas", "render"]
    details = dict(recorder.stages)
    assert details["load"].endswith("1 file read")
    assert details["normalize"] == "3 tools in 1 connector, 0 operations left out"
    assert details["schemas"] == "3 input schemas"
    assert recorder.steps == [("schemas", 1, 3), ("schemas", 2, 3), ("schemas", 3, 3)]
    inspected = Recorder()
    inspect(str(spec), GenOptions(name="pets"), cwd=tmp_path, progress=inspected)
    assert [name for name, _ in inspected.stages] == ["load", "validate", "normalize", "models"]


def test_terminal_progress_draws_stage_lines_with_times_and_a_growing_bar() -> None:
    now = iter([100.0, 101.5, 104.0])
    stream = io.StringIO()
    progress = TerminalProgress(stream, prefix="specbridge gen", clock=lambda: next(now), min_total=4)
    progress.stage("load", "spec.json: 1 file read")
    for done in range(1, 9):
        progress.step("schemas", done, 8)
    progress.stage("schemas", "8 input schemas")
    lines = stream.getvalue().split("\n")
    assert lines[0] == "specbridge gen: load      spec.json: 1 file read (1.5 s)"
    bars = [part for part in lines[1].split("\r") if part.startswith("specbridge gen: schemas")]
    assert len(bars) == 8  # 30 columns, 8 items: the bar grows at every item
    assert bars[0].endswith("1/8") and bars[-1] == "specbridge gen: schemas   [" + "#" * 30 + "] 8/8"
    assert lines[1].endswith("\x1b[2Kspecbridge gen: schemas   8 input schemas (2.5 s)")


def test_few_items_draw_no_bar() -> None:
    stream = io.StringIO()
    progress = TerminalProgress(stream, clock=lambda: 0.0, min_total=20)
    progress.step("schemas", 1, 3)
    assert stream.getvalue() == ""


def test_the_cli_is_quiet_when_stderr_is_not_a_terminal(spec: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli.main(["gen", str(spec), "--name", "pets"]) == 0
    err = capsys.readouterr().err
    assert "normalize" not in err and "schemas" not in err and "\r" not in err
    assert "1 package written" in err


def test_the_cli_shows_stages_when_stderr_is_a_terminal(spec: Path, tmp_path: Path) -> None:
    parent, child = os.openpty()
    try:
        command = [str(Path(sys.executable).parent / "specbridge"), "gen", str(spec), "--name", "pets"]
        completed = subprocess.run(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=child, timeout=120,
                                   check=False)
        os.close(child)
        shown = b""
        while True:
            try:
                chunk = os.read(parent, 65536)
            except OSError:  # the terminal is closed once everything is read
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(parent)
    assert completed.returncode == 0
    text = shown.decode()
    for stage in ("load", "validate", "normalize", "models", "schemas", "render"):
        assert f"specbridge gen: {stage}" in text
    assert "1 package written" in text
