from __future__ import annotations

import re
import subprocess
import sys

from tests.fixtures.common import REPO, run_cli
from wasmbuild import __version__, cli


def test_version_prints_the_package_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"wasmbuild {__version__}"


def test_help_lists_every_command() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    for command in cli.COMMANDS:
        assert command.name in result.stdout


def test_unknown_command_is_a_usage_error_without_traceback() -> None:
    result = run_cli("frobnicate")
    assert result.returncode == 2
    assert "error:" in result.stderr
    assert "Traceback" not in result.stderr


def test_no_command_prints_help_and_exits_2() -> None:
    result = run_cli()
    assert result.returncode == 2
    assert "usage: wasmbuild" in result.stdout


def test_help_imports_no_heavy_module() -> None:
    code = (
        "import sys; from wasmbuild.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('wasmtime', 'pydantic', 'docker', 'jinja2', 'tqdm') if m in sys.modules]\n"
        "print('HEAVY=' + ','.join(heavy))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert proc.stdout.strip().splitlines()[-1] == "HEAVY="


def test_run_as_the_program_the_exit_skips_a_full_collection_and_still_flushes_output() -> None:
    """main() with no argv (the console script, python -m) freezes the heap as the last exit handler,
    so the interpreter's final collection does not walk every object; the output is all there."""
    code = (
        "import atexit, gc, sys\n"
        "atexit.register(lambda: print('FROZEN', gc.get_freeze_count() > 0, file=sys.stderr))\n"
        "from wasmbuild.cli import main\n"
        "sys.argv = ['wasmbuild', '--help']\n"
        "main()\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert "FROZEN True" in proc.stderr
    assert proc.stdout.rstrip().endswith(".") and "usage: wasmbuild" in proc.stdout


def test_called_with_an_argv_main_leaves_the_exit_alone(monkeypatch, capsys) -> None:
    import atexit

    registered: list[object] = []
    monkeypatch.setattr(atexit, "register", registered.append)
    assert cli.main(["--version"]) == 0
    assert registered == []


def test_unexpected_exception_becomes_one_line_and_a_crash_log(monkeypatch, capsys, wasmbuild_home) -> None:
    def boom(argv):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(cli, "build_parser", boom)
    assert cli.main(["list"]) == 70
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: kaboom" in err
    assert "Traceback" not in err
    assert (wasmbuild_home / "crash.log").read_text().count("kaboom") >= 1


def test_an_unknown_option_is_reported_with_the_sub_commands_usage() -> None:
    for args, prog in ((["build", "--bogus"], "wasmbuild build"), (["deploy", "istio", "r:1", "--id", "a", "-Z"],
                                                                   "wasmbuild deploy istio")):
        result = run_cli(*args)
        assert result.returncode == 2
        assert result.stderr.startswith(f"usage: {prog} ")
        assert "error: unrecognized arguments:" in result.stderr
        assert result.stderr.rstrip().endswith(f"hint: run '{prog} --help' for the options")


def test_a_mistyped_command_or_choice_gets_a_suggestion() -> None:
    assert run_cli("bulid").stderr.rstrip().endswith("hint: did you mean 'build'?")
    assert run_cli("check", "--format", "jsno", "x.wasm").stderr.rstrip().endswith("hint: did you mean 'json'?")
    assert run_cli("frobnicate").stderr.rstrip().endswith("hint: run 'wasmbuild --help' for the options")


def test_every_command_and_sub_command_has_help_with_a_description() -> None:
    """`--help` of every command reads as a page: a description under the usage, metavars in capitals."""
    commands = [[c.name] for c in cli.COMMANDS]
    commands += [["deploy", p] for p in ("istio", "envoy", "gloo")] + [["undeploy", p] for p in ("istio", "gloo")]
    commands += [["builder", a] for a in ("build", "info")]
    for command in commands:
        result = run_cli(*command, "--help")
        assert result.returncode == 0, (command, result.stderr)
        usage, _, rest = result.stdout.partition("\n\n")
        assert usage.startswith(f"usage: wasmbuild {' '.join(command)}")
        description = rest.split("\n\n")[0]
        assert description and not description.startswith(("positional arguments", "options")), command
        # argparse's default metavar (the dest in capitals, e.g. ROOT_ID) means nobody chose one
        assert not re.search(r"--[a-z-]+ [A-Z]+_[A-Z_]+\b", usage), usage


def _on_a_terminal(*args: str, env: dict[str, str] | None = None) -> str:
    """stdout+stderr of `wasmbuild ARGS` run on a fresh pseudo-terminal (which has no size: 0x0)."""
    import os
    import pty

    master, slave = pty.openpty()
    full_env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "COLUMNS")}
    full_env.update(PYTHONPATH=str(REPO), **(env or {}))
    proc = subprocess.Popen([sys.executable, "-m", "wasmbuild", *args], stdin=slave, stdout=slave, stderr=slave,
                            env=full_env, close_fds=True)
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    proc.wait(timeout=60)
    return seen.decode("utf-8", "replace").replace("\r\n", "\n")


def test_error_is_red_on_a_terminal_and_plain_with_no_color() -> None:
    assert "\x1b[1;31merror:\x1b[0m rm-me:v1 is not in the local store" in _on_a_terminal("rm", "rm-me:v1")
    plain = _on_a_terminal("rm", "rm-me:v1", env={"NO_COLOR": "1"})
    assert "error: rm-me:v1 is not in the local store" in plain and "\x1b[" not in plain
    piped = run_cli("rm", "rm-me:v1")
    assert "\x1b[" not in piped.stderr


def test_help_on_a_terminal_without_a_size_is_80_columns_wide() -> None:
    # script(1), `docker run -t` and CI ptys report 0 columns: that must not mean one word per line
    text = _on_a_terminal("new", "--help", env={"NO_COLOR": "1"})
    assert "usage: wasmbuild new [-h] [--lang LANG]" in text
