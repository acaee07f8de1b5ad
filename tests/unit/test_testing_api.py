"""wasmbuild.testing as a user's project uses it: fixtures from a conftest, project discovery,
the Headers view, shutdown."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.fixtures.common import REPO
from tests.fixtures.host import HELPERS, wat_filter
from wasmbuild.errors import NotFoundError
from wasmbuild.testing import Headers, load_filter

ADD_HELLO = HELPERS + """
(func (export "proxy_on_vm_start") (param i32 i32) (result i32)
  (drop (call $proxy_get_property <<root>> (i32.const 0) (i32.const 4)))
  (call $say_out (i32.const 0) (i32.const 4))
  (i32.const 1))
(func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32)
  (drop (call $proxy_add_header_map_value (i32.const 2) <<hello>> <<world>>))
  (i32.const 0))
"""
STRINGS = {"root": "plugin_root_id", "hello": "hello", "world": "world!"}


def make_project(directory: Path, output: str = "build/filter.wasm") -> Path:
    (directory / "wasmbuild.toml").write_text(textwrap.dedent(f"""\
        [project]
        name = "demo"
        language = "cpp"
        root_id = "demo_root"

        [build]
        output = "{output}"
        """))
    module = directory / output
    module.parent.mkdir(parents=True, exist_ok=True)
    module.write_bytes(wat_filter(ADD_HELLO, strings=STRINGS))
    return module


def test_fixtures_from_a_projects_conftest(tmp_path: Path) -> None:
    make_project(tmp_path, output="out/custom.wasm")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "conftest.py").write_text(textwrap.dedent("""\
        from pathlib import Path
        from wasmbuild.testing import filter_factory, filter_fixture

        PROJECT = Path(__file__).resolve().parents[1]
        demo = filter_fixture(PROJECT, log_level="debug")
        load_demo = filter_factory(PROJECT)
        """))
    (tmp_path / "tests" / "test_demo.py").write_text(textwrap.dedent("""\
        def test_fixture(demo):
            assert demo.log_messages() == ["demo_root"]
            assert demo.run_http().response_headers["hello"] == "world!"

        def test_factory(load_demo):
            first, second = load_demo(), load_demo(root_id="other")
            assert first.log_messages() == ["demo_root"] and second.log_messages() == ["other"]
        """))
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 passed" in proc.stdout


def test_load_filter_finds_the_project_module_and_root_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_project(tmp_path)
    (tmp_path / "src").mkdir()
    monkeypatch.chdir(tmp_path / "src")
    assert load_filter().log_messages() == ["demo_root"]
    assert load_filter(tmp_path).log_messages() == ["demo_root"]
    assert load_filter(tmp_path / "build" / "filter.wasm", root_id="given").log_messages() == ["given"]


def test_an_unbuilt_project_says_to_build_it(tmp_path: Path) -> None:
    (tmp_path / "project").mkdir()
    make_project(tmp_path / "project").unlink()
    with pytest.raises(NotFoundError, match="does not exist") as caught:
        load_filter(tmp_path / "project")
    assert caught.value.hint == "run 'wasmbuild build' first"
    (tmp_path / "elsewhere").mkdir()
    with pytest.raises(NotFoundError, match=r"no wasmbuild\.toml"):
        load_filter(tmp_path / "elsewhere")  # a directory that is not a project
    with pytest.raises(NotFoundError, match=r"missing\.wasm: no such file"):
        load_filter(tmp_path / "missing.wasm")


def test_headers_view() -> None:
    h = Headers([(b":status", b"200"), ("Set-Cookie", "a"), ("set-cookie", "b")])
    assert h == [(":status", "200"), ("Set-Cookie", "a"), ("set-cookie", "b")]
    assert h.get("set-cookie") == "a" and h.get_all("SET-COOKIE") == ["a", "b"]
    assert h.get("missing", "default") == "default"
    assert len(h) == 3 and h.names()[0] == ":status"
    assert Headers([("a", "1")]) == {"a": "1"}


def test_context_manager_runs_shutdown_and_records_a_failing_one_as_a_note() -> None:
    body = ADD_HELLO + '(func (export "proxy_on_done") (param i32) (result i32) unreachable)'
    with load_filter(wat_filter(body, strings=STRINGS)) as f:
        pass
    assert "plugin shutdown failed" in f.notes[0]
    g = load_filter(wat_filter(body, strings=STRINGS))
    from wasmbuild.testing import CallbackFailure

    with pytest.raises(CallbackFailure, match="proxy_on_done"):
        g.close(strict=True)
