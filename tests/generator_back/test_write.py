"""Writing a package: all or nothing, never outside OUT, never over a folder that is not ours, and a lock
that lets `--check` see drift."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from specbridge import codes
from specbridge.write import LOCK, STAGING, Sources, check_package, lock_file, sha256, write_package

FILES = {"README.md": "# demo\n", "src/demo_mcp/__init__.py": "", "src/demo_mcp/tools.json": "[]\n"}


def package(files: dict[str, str] = FILES) -> dict[str, str]:
    return {**files, LOCK: lock_file(files, Sources({"../../specs/demo.json": "ab" * 32}), generator_version="0.1.0",
                                     runtime_requirement="specbridge-runtime>=0.1.0,<1")}


def tree(folder: Path) -> dict[str, str]:
    return {path.relative_to(folder).as_posix(): path.read_text() for path in sorted(folder.rglob("*"))
            if path.is_file()}


def test_a_new_folder_gets_exactly_the_files_and_no_staging_is_left(tmp_path: Path) -> None:
    out = tmp_path / "generated" / "demo"
    assert write_package(out, package()) == ()
    assert tree(out) == package()
    assert sorted(os.listdir(out.parent)) == ["demo"]


def test_the_lock_records_versions_and_hashes_and_nothing_variable() -> None:
    lock = json.loads(package()[LOCK])
    assert lock == {
        "generator": "specbridge 0.1.0", "runtime": "specbridge-runtime>=0.1.0,<1",
        "sources": {"../../specs/demo.json": "ab" * 32},
        "files": {name: sha256(text) for name, text in sorted(FILES.items())},
    }
    assert package()[LOCK] == package()[LOCK]


def test_regenerating_replaces_our_files_and_keeps_the_users(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    write_package(out, package())
    (out / "notes.txt").write_text("mine")
    (out / "src" / "demo_mcp" / "__pycache__").mkdir()
    (out / "src" / "demo_mcp" / "__pycache__" / "x.pyc").write_text("cache")
    smaller = {"README.md": "# demo v2\n", "src/demo_mcp/__init__.py": ""}
    assert write_package(out, package(smaller)) == ()
    assert tree(out) == {**package(smaller), "notes.txt": "mine", "src/demo_mcp/__pycache__/x.pyc": "cache"}


def test_a_users_file_where_the_package_now_has_one_is_kept_aside(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    write_package(out, package())
    (out / "CHANGES.md").write_text("the user's notes")
    problems = write_package(out, package({**FILES, "CHANGES.md": "generated\n"}))
    assert [d.code for d in problems] == [codes.OUT_NOT_OURS]
    (kept,) = (tmp_path / STAGING).iterdir()
    assert (kept / "CHANGES.md").read_text() == "the user's notes"
    assert str(kept) in problems[0].message
    assert (out / "CHANGES.md").read_text() == "generated\n"


def test_a_folder_that_is_not_ours_is_never_touched(tmp_path: Path) -> None:
    out = tmp_path / "precious"
    out.mkdir()
    (out / "thesis.tex").write_text("years of work")
    problems = write_package(out, package())
    assert [d.code for d in problems] == [codes.OUT_NOT_OURS]
    assert "no specbridge.lock" in problems[0].message
    assert tree(out) == {"thesis.tex": "years of work"}
    assert not (tmp_path / STAGING).exists()


def test_an_empty_folder_is_fine(tmp_path: Path) -> None:
    out = tmp_path / "empty"
    out.mkdir()
    assert write_package(out, package()) == ()


@pytest.mark.parametrize("name", ["/etc/passwd", "../escape.txt", "src/../../escape.txt", "a//b", "./a", "",
                                  "a\\b", "C:/x", "nul\x00byte"])
def test_paths_that_could_leave_the_folder_are_refused_and_nothing_is_written(tmp_path: Path, name: str) -> None:
    out = tmp_path / "demo"
    problems = write_package(out, {**package(), name: "x"})
    assert [d.code for d in problems] == [codes.OUT_UNSAFE]
    assert not out.exists()
    assert sorted(os.listdir(tmp_path)) == []


def test_symlinks_in_or_as_the_folder_are_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    out = tmp_path / "demo"
    write_package(out, package())
    (out / "src" / "link").symlink_to(outside)
    assert [d.code for d in write_package(out, package())] == [codes.OUT_UNSAFE]
    (out / "src" / "link").unlink()
    linked = tmp_path / "linked"
    linked.symlink_to(out)
    assert [d.code for d in write_package(linked, package())] == [codes.OUT_UNSAFE]
    assert tree(outside) == {}


def test_a_file_in_place_of_the_folder_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    out.write_text("a file")
    assert [d.code for d in write_package(out, package())] == [codes.OUT_UNSAFE]
    assert out.read_text() == "a file"


def test_check_names_changed_missing_and_stale_files(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    write_package(out, package())
    assert check_package(out, package()) == []
    (out / "README.md").write_text("edited by hand\n")
    (out / "src" / "demo_mcp" / "tools.json").unlink()
    (out / "notes.txt").write_text("not ours, not checked")
    assert check_package(out, package()) == ["README.md", "src/demo_mcp/tools.json"]
    (out / "src" / "demo_mcp" / "tools.json").write_text("[]\n")
    smaller = {"README.md": "edited by hand\n", "src/demo_mcp/__init__.py": ""}
    assert check_package(out, package(smaller)) == [LOCK, "src/demo_mcp/tools.json"]  # stale: no longer generated


def test_check_of_a_missing_folder_lists_every_file(tmp_path: Path) -> None:
    assert check_package(tmp_path / "nothing", package()) == sorted(package())
