"""`wasmbuild new` as a user meets it: bad input, --force, prompts on a terminal, none without one."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fixtures.common import REPO, Result, run_cli
from tests.fixtures.scaffold import snapshot
from wasmbuild.config import load_project


def _assert_refused(result: Result, *needles: str) -> None:
    """Exit 2, one `error:` line naming the problem (plus an optional hint), no traceback."""
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert all(line.startswith(("error:", "hint:")) for line in lines), result.stderr
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in errors[0], (needle, errors[0])


def _no_temp_left(directory: Path) -> None:
    assert [p.name for p in directory.iterdir() if p.name.endswith(".wasmbuild-new")] == []


BAD_ARGUMENTS = {
    "empty name": (["--name", ""], "empty"),
    "blank name": (["--name", "   "], "empty"),
    "slash in name": (["--name", "a/b"], "path separator"),
    "backslash in name": (["--name", "a\\b"], "path separator"),
    "dot-dot in name": (["--name", "a..b"], "'..'"),
    "dot-dot name": (["--name", ".."], "'..'"),
    "no letters": (["--name=---"], "no ASCII letters"),
    "no ascii": (["--name", "фильтр"], "no ASCII letters"),
    "leading digit": (["--name", "9lives"], "start with a letter"),
    "too long": (["--name", "a" * 64], "longer than 63"),
    "rust keyword": (["--lang", "rust", "--name", "fn"], "Rust keyword"),
    "rust std crate": (["--lang", "rust", "--name", "core"], "Rust standard crate"),
    "cpp keyword": (["--lang", "cpp", "--name", "class"], "C++ keyword"),
    "npm reserved": (["--name", "node_modules"], "reserved by npm"),
    "unknown language": (["--lang", "go"], "unknown language 'go'"),
    "unknown abi": (["--abi", "0.3.0"], "unknown proxy-wasm ABI version '0.3.0'"),
    "abi without sdk": (["--abi", "0.1.0"], "no assemblyscript SDK emits proxy-wasm ABI 0.1.0"),
    "abi sdk mismatch": (["--sdk", "gcore", "--abi", "0.2.0"], "emits proxy-wasm ABI 0.2.1, not 0.2.0"),
    "sdk of another language": (["--lang", "cpp", "--sdk", "gcore"], "SDK 'gcore' is for assemblyscript"),
    "unknown sdk": (["--sdk", "nope"], "unknown SDK 'nope'"),
    "unknown platform": (["--platform", "nginx"], "unknown platform 'nginx'"),
    "bad platform version": (["--platform-version", "latest"], "not a version"),
    "bad root id": (["--root-id", 'a"b'], "root id"),
}


@pytest.mark.parametrize("case", list(BAD_ARGUMENTS), ids=list(BAD_ARGUMENTS))
def test_bad_input_is_refused_and_nothing_is_written(tmp_path: Path, case: str) -> None:
    extra, needle = BAD_ARGUMENTS[case]
    args = ["--lang", "assemblyscript", *extra] if "--lang" not in extra else extra
    result = run_cli("new", str(tmp_path / "proj"), *args, input="")
    _assert_refused(result, needle)
    assert list(tmp_path.iterdir()) == []


def test_empty_path_is_refused(tmp_path: Path) -> None:
    result = run_cli("new", "", "--lang", "assemblyscript", cwd=tmp_path, input="")
    _assert_refused(result, "PATH is empty")
    assert list(tmp_path.iterdir()) == []


def test_missing_language_without_a_terminal_lists_the_choices(tmp_path: Path) -> None:
    result = run_cli("new", str(tmp_path / "proj"), input="")
    _assert_refused(result, "no language given")
    assert "cpp, assemblyscript, rust" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_invalid_directory_name_is_refused_when_no_name_is_given(tmp_path: Path) -> None:
    result = run_cli("new", str(tmp_path / "42"), "--lang", "assemblyscript", input="")
    _assert_refused(result, "'42'", "start with a letter")
    assert list(tmp_path.iterdir()) == []


def test_non_empty_destination_is_refused_without_force(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "notes.txt").write_text("mine\n")
    before = snapshot(project)
    result = run_cli("new", str(project), "--lang", "assemblyscript", input="")
    _assert_refused(result, "exists and is not empty")
    assert "--force" in result.stderr
    assert snapshot(project) == before
    _no_temp_left(tmp_path)


def test_destination_that_is_a_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "proj"
    target.write_text("a file\n")
    before = snapshot(target)
    result = run_cli("new", str(target), "--lang", "assemblyscript", "--force", input="")
    _assert_refused(result, "not a directory")
    assert snapshot(target) == before


def test_destination_under_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x\n")
    result = run_cli("new", str(tmp_path / "file" / "proj"), "--lang", "assemblyscript", input="")
    _assert_refused(result, "not a directory")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_unwritable_destination_is_refused(unwritable_dir: Path) -> None:
    result = run_cli("new", str(unwritable_dir / "proj"), "--lang", "assemblyscript", input="")
    _assert_refused(result, "cannot write")
    assert list(unwritable_dir.iterdir()) == []


def test_new_creates_missing_parents_and_a_complete_project(tmp_path: Path) -> None:
    project = tmp_path / "a" / "b" / "My Filter"
    result = run_cli("new", str(project), "--lang", "as", input="")
    assert result.returncode == 0, result.stderr
    assert "project name: my-filter (from 'My Filter')" in result.stderr
    loaded = load_project(project, environ={})
    assert (loaded.config.project.name, loaded.config.project.root_id) == ("my-filter", "my_filter")
    assert (project / "assembly" / "index.ts").is_file()
    assert (project / "package.json").is_file()
    assert oct(project.stat().st_mode & 0o777) == oct(0o777 & ~_umask())
    _no_temp_left(tmp_path / "a" / "b")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_new_into_an_existing_empty_directory_keeps_the_directory(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    inode = project.stat().st_ino
    result = run_cli("new", ".", "--lang", "assemblyscript", cwd=project, input="")
    assert result.returncode == 0, result.stderr
    assert project.stat().st_ino == inode  # a shell sitting in it keeps a live directory
    assert load_project(project, environ={}).config.project.name == "proj"


def test_force_overwrites_template_files_and_keeps_the_rest(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    (project / "assembly").mkdir(parents=True)
    (project / "notes.txt").write_text("mine\n")
    (project / "assembly" / "extra.ts").write_text("// mine\n")
    (project / "README.md").write_text("stale\n")
    result = run_cli("new", str(project), "--lang", "assemblyscript", "--force", input="")
    assert result.returncode == 0, result.stderr
    assert (project / "notes.txt").read_text() == "mine\n"
    assert (project / "assembly" / "extra.ts").read_text() == "// mine\n"
    assert (project / "README.md").read_text().startswith("# proj\n")
    assert (project / "wasmbuild.toml").is_file()
    _no_temp_left(tmp_path)


def test_force_refuses_a_directory_where_the_template_writes_a_file(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    (project / "README.md").mkdir(parents=True)
    (project / "notes.txt").write_text("mine\n")
    before = snapshot(project)
    result = run_cli("new", str(project), "--lang", "assemblyscript", "--force", input="")
    _assert_refused(result, "is a directory")
    assert snapshot(project) == before
    _no_temp_left(tmp_path)


def test_solo_io_implies_abi_0_2_0_and_abi_alone_picks_the_sdk(tmp_path: Path) -> None:
    result = run_cli("new", str(tmp_path / "a"), "--lang", "assemblyscript", "--abi", "v0.2.0", input="")
    assert result.returncode == 0, result.stderr
    project = load_project(tmp_path / "a", environ={}).config.project
    assert (project.sdk, project.abi) == ("solo-io", "0.2.0")


# ---- prompts on a terminal -------------------------------------------------------------------

class Terminal:
    """`wasmbuild new` on a pseudo-terminal: read what it asks, type answers."""

    def __init__(self, *args: str, cwd: Path) -> None:
        import pty

        self.master, slave = pty.openpty()
        env = dict(os.environ, PYTHONPATH=str(REPO), NO_COLOR="1")
        self.proc = subprocess.Popen([sys.executable, "-m", "wasmbuild", "new", *args], cwd=cwd, env=env,
                                     stdin=slave, stdout=slave, stderr=slave, close_fds=True)
        os.close(slave)
        self.seen = ""

    def expect(self, text: str, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.seen:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"never saw {text!r}; got:\n{self.seen}")
            ready, _, _ = select.select([self.master], [], [], remaining)
            if ready:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:  # the child closed the terminal
                    chunk = b""
                if not chunk:
                    raise AssertionError(f"exited before {text!r}; got:\n{self.seen}")
                self.seen += chunk.decode("utf-8", "replace").replace("\r\n", "\n")

    def type(self, line: str) -> None:
        os.write(self.master, line.encode() + b"\n")

    def finish(self) -> int:
        try:
            while True:
                ready, _, _ = select.select([self.master], [], [], 20)
                if not ready:
                    break
                chunk = os.read(self.master, 4096)
                if not chunk:
                    break
                self.seen += chunk.decode("utf-8", "replace").replace("\r\n", "\n")
        except OSError:
            pass
        os.close(self.master)
        return self.proc.wait(timeout=20)


def test_prompts_for_language_then_platform_on_a_terminal(tmp_path: Path) -> None:
    term = Terminal("proj", cwd=tmp_path)
    term.expect("What language do you wish to use for the filter?")
    term.expect("Choose 1-3: ")
    term.type("go")
    term.expect("'go' is not one of the choices")
    term.expect("Choose 1-3: ")
    term.type("2")
    term.expect("With which platform do you wish to use the filter?")
    term.expect("Choose 1-3 [istio]: ")
    term.type("envoy")
    term.expect("Which envoy version? [1.32]: ")
    term.type("1.30")
    assert term.finish() == 0, term.seen
    assert "created proj" in term.seen
    project = load_project(tmp_path / "proj", environ={}).config.project
    assert (project.language, project.platform, project.platform_version) == ("assemblyscript", "envoy", "1.30")


def test_prompt_defaults_and_given_answers_are_not_asked(tmp_path: Path) -> None:
    term = Terminal("proj", "--lang", "assemblyscript", cwd=tmp_path)
    term.expect("With which platform do you wish to use the filter?")
    term.expect("[istio]: ")
    term.type("")
    term.expect("[1.24]: ")
    term.type("")
    assert term.finish() == 0, term.seen
    assert "language" not in term.seen.split("With which platform")[0]
    project = load_project(tmp_path / "proj", environ={}).config.project
    assert (project.platform, project.platform_version) == ("istio", "1.24")


def test_no_prompt_flag_on_a_terminal_fails_like_a_script(tmp_path: Path) -> None:
    term = Terminal("proj", "--no-prompt", cwd=tmp_path)
    assert term.finish() == 2
    assert "error: no language given" in term.seen
    assert not (tmp_path / "proj").exists()


def test_bad_name_fails_before_any_question(tmp_path: Path) -> None:
    term = Terminal("proj", "--name", "a/b", cwd=tmp_path)
    assert term.finish() == 2
    assert "What language" not in term.seen
    assert "path separator" in term.seen


def test_ctrl_c_at_a_prompt_exits_130_on_a_line_of_its_own(tmp_path: Path) -> None:
    import signal

    term = Terminal("proj", cwd=tmp_path)
    term.expect("Choose 1-3: ")
    term.proc.send_signal(signal.SIGINT)  # what the terminal sends for Ctrl-C
    assert term.finish() == 130
    assert "Choose 1-3: \ninterrupted\n" in term.seen, term.seen
    assert "Traceback" not in term.seen
    assert not (tmp_path / "proj").exists()


def test_new_in_the_current_directory_suggests_no_cd(tmp_path: Path) -> None:
    result = run_cli("new", ".", "--lang", "rust", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "next: wasmbuild build && wasmbuild run build/filter.wasm" in result.stderr and "cd ." not in result.stderr
