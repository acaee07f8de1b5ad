"""The command line: argparse sub-commands and THE one place where errors become exit codes.

Each sub-command lives in its own module under `wasmbuild.commands` with two functions:
`add_arguments(parser)` and `run(args) -> int`. Only the module of the command being run is
imported, so `wasmbuild --help` and `wasmbuild check --help` never import wasmtime, pydantic,
docker or jinja2 (command modules import those inside `run`).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from wasmbuild import __version__
from wasmbuild.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_USAGE, WasmbuildError

TYPE_CHECKING = False  # not `from typing import ...`: typing costs ~4 ms of start-up
if TYPE_CHECKING:
    from typing import Any, Protocol


class Command:
    """One sub-command: its name, the module implementing it, the one-line summary for --help."""

    __slots__ = ("module", "name", "summary")

    def __init__(self, name: str, module: str, summary: str) -> None:
        self.name = name
        self.module = module
        self.summary = summary

    def __repr__(self) -> str:
        return f"Command({self.name!r}, {self.module!r})"


# The order here is the order `wasmbuild --help` lists them: the seed walk, then the rest.
COMMANDS: tuple[Command, ...] = (
    Command("new", "wasmbuild.commands.new", "scaffold a new filter project"),
    Command("build", "wasmbuild.commands.build", "build a project into a checked .wasm"),
    Command("check", "wasmbuild.commands.check", "check .wasm files against the proxy-wasm ABI"),
    Command("inspect", "wasmbuild.commands.inspect", "show what a .wasm imports, exports and contains"),
    Command("run", "wasmbuild.commands.run", "run one HTTP stream through a filter under a local host"),
    Command("list", "wasmbuild.commands.list", "list the modules in the local store"),
    Command("tag", "wasmbuild.commands.tag", "give a stored module another reference"),
    Command("rm", "wasmbuild.commands.rm", "remove references from the local store"),
    Command("package", "wasmbuild.commands.package", "store a .wasm built elsewhere under a reference"),
    Command("push", "wasmbuild.commands.push", "push a stored module to a registry"),
    Command("pull", "wasmbuild.commands.pull", "pull a module from a registry into the local store"),
    Command("login", "wasmbuild.commands.login", "save credentials for a registry"),
    Command("logout", "wasmbuild.commands.logout", "forget the credentials for a registry"),
    Command("deploy", "wasmbuild.commands.deploy", "render (or apply) Istio, Envoy or Gloo manifests"),
    Command("undeploy", "wasmbuild.commands.undeploy", "render (or delete) what deploy created"),
    Command("builder", "wasmbuild.commands.builder", "build or describe the hermetic builder image"),
)


if TYPE_CHECKING:
    class CommandModule(Protocol):
        def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

        def run(self, args: argparse.Namespace) -> int: ...


class _Formatter(argparse.HelpFormatter):
    """argparse's formatter without its `import shutil` (zlib, bz2, lzma...): ~3 ms of start-up
    that `wasmbuild check` cannot afford. Same width rule as shutil.get_terminal_size."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        if width is None:
            try:
                width = int(os.environ.get("COLUMNS", "")) or 0
            except ValueError:
                width = 0
            if width <= 0:
                try:
                    width = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
                except (AttributeError, ValueError, OSError):
                    width = 80
                if width <= 0:  # a terminal nobody gave a size (script(1), docker run -t): 0 columns
                    width = 80
            width -= 2
        super().__init__(prog, indent_increment, max_help_position, width)


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors through our error model (one line, exit 2)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:  # type: ignore[override]
        namespace, extras = super().parse_known_args(args, namespace)
        if extras and " " in self.prog:
            # A sub-command's parser gets every argument after its name, so what it leaves is unknown
            # for certain: say so with its usage and its --help (argparse would hand them up to the
            # top-level parser, whose usage and hint are of no help for `wasmbuild build --bogus`).
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return namespace, extras

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        _report(message, _suggestion(message) or f"run '{self.prog} --help' for the options")
        sys.exit(EXIT_USAGE)


def _suggestion(message: str) -> str | None:
    """'did you mean ...' for a mistyped command or choice (argparse's 'invalid choice' message)."""
    import re

    match = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)$", message)
    if match is None:
        return None
    import difflib

    choices = re.findall(r"'([^']*)'", match.group(2))
    close = difflib.get_close_matches(match.group(1), choices, n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None


def _selected_command(argv: Sequence[str]) -> str | None:
    """The sub-command named on the command line, found without parsing everything."""
    names = {c.name for c in COMMANDS}
    for arg in argv:
        if arg == "--":
            return None
        if not arg.startswith("-"):
            return arg if arg in names else None
    return None


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The parser, with full arguments only for the sub-command in `argv` (all of them if none)."""
    parser = _Parser(
        prog="wasmbuild",
        description="Scaffold, build, check, run, package and deploy proxy-wasm filters.",
        epilog="Run 'wasmbuild COMMAND --help' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"wasmbuild {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    selected = _selected_command(argv)
    for command in COMMANDS:
        if selected is not None and command.name != selected:
            continue  # parsing one command needs only its sub-parser: ~5 ms less start-up for `check`
        p = sub.add_parser(command.name, help=command.summary, description=command.summary[0].upper()
                           + command.summary[1:] + ".")
        if command.name == selected:
            load(command).add_arguments(p)
        p.set_defaults(_command=command)
    return parser


def load(command: Command) -> CommandModule:
    module: CommandModule = importlib.import_module(command.module)  # type: ignore[assignment]
    return module


def _skip_the_collection_at_exit() -> None:
    """At exit, CPython runs a full garbage collection over every object of every imported module
    (~3 ms of wall and CPU for `push` or `pull`, a twentieth of their run) before the process ends and
    the OS takes all the memory back anyway. gc.freeze() as the last exit handler (registered
    first, so the others run before it) takes those objects out of that collection. Nothing of ours
    waits for it: files are closed by `with`, and the standard streams are flushed regardless."""
    import atexit
    import gc

    atexit.register(gc.freeze)


def _report(message: str, hint: str | None) -> None:
    """`error: MESSAGE` and `hint: HINT` on stderr: how every failure ends, usage errors and crashes too."""
    from wasmbuild.console import error_label

    sys.stderr.write(f"{error_label()} {message}\n")
    if hint:
        sys.stderr.write(f"hint: {hint}\n")


def _isatty(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError, OSError):
        return False


def _crash_log(exc: BaseException) -> str:
    """Write the traceback of an unexpected exception to a file and return its path."""
    import tempfile
    import traceback

    from wasmbuild.paths import home

    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    header = f"wasmbuild {__version__}\nargv: {sys.argv!r}\npython: {sys.version}\n\n"
    from pathlib import Path

    try:
        candidates = [home()]
    except Exception:  # WASMBUILD_HOME is a file, say: the crash log still goes somewhere
        candidates = []
    for directory in (*candidates, Path(tempfile.gettempdir())):
        try:
            directory.mkdir(parents=True, exist_ok=True)
            path = directory / "crash.log"
            path.write_text(header + text, encoding="utf-8")
            return str(path)
        except OSError:
            continue
    return "(could not write a crash log)"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code; never lets an exception escape."""
    if argv is None:  # run as the program: the interpreter exits when this returns
        _skip_the_collection_at_exit()
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        parser = build_parser(args_list)
        args = parser.parse_args(args_list)
        command: Command | None = getattr(args, "_command", None)
        if command is None:
            parser.print_help()
            return EXIT_USAGE
        return load(command).run(args)
    except WasmbuildError as error:
        _report(error.message, error.hint)
        return error.exit_code
    except KeyboardInterrupt:
        # on a terminal the cursor is after the echoed ^C (often mid-prompt): start a line of our own
        sys.stderr.write(("\n" if _isatty(sys.stderr) else "") + "interrupted\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # the reader went away (`wasmbuild list | head`); silence the flush at exit too
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else EXIT_USAGE)
    except Exception as exc:
        where = _crash_log(exc)
        _report(f"internal error: {type(exc).__name__}: {exc}",
                f"this is a bug in wasmbuild; the details are in {where}")
        return EXIT_INTERNAL
