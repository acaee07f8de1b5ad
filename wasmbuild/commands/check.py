"""`wasmbuild check`: check .wasm files against the proxy-wasm ABI (also the pre-commit hook).

Exit 0 when no file has an error finding, 1 when any has, 2 for usage errors. Only the standard
library and our own reader run here unless --strict asks wasmtime to validate function bodies.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from wasmbuild.errors import EXIT_FAILED, EXIT_OK, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from wasmbuild.abi import Report


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from wasmbuild.abi.spec import versions

    parser.add_argument("files", nargs="+", metavar="FILE", help=".wasm modules to check ('-' reads one from stdin)")
    parser.add_argument("--abi", default="auto", choices=("auto", *versions()),
                        help="the ABI version the modules must declare (default: auto, whatever each declares)")
    parser.add_argument("--format", default="text", choices=("text", "json"), help="output format (default: text)")
    parser.add_argument("--strict", action="store_true",
                        help="also validate every function body with wasmtime (slower)")


STDIN = "-"
STDIN_NAME = "<stdin>"


def read_stdin() -> bytes:
    """A module piped in (`curl ... | wasmbuild check -`), within the limit a pipe gets."""
    from wasmbuild.abi.checker import STREAM_LIMIT

    if sys.stdin is None:
        raise UsageError("'-' reads a module from stdin, and there is no stdin")
    data = sys.stdin.buffer.read(STREAM_LIMIT + 1)
    if len(data) > STREAM_LIMIT:
        raise UsageError(f"more than {STREAM_LIMIT >> 20} MiB on stdin", "pass the file's path instead")
    return data


def run(args: argparse.Namespace) -> int:
    from wasmbuild.abi import check_files

    if args.files.count(STDIN) > 1:
        raise UsageError("'-' (stdin) is given more than once", "stdin holds one module")
    sources: list[str | bytes] = [read_stdin() if f == STDIN else f for f in args.files]
    reports = [r._replace(path=STDIN_NAME) if f == STDIN else r
               for f, r in zip(args.files, check_files(sources, args.abi, strict=args.strict), strict=True)]
    if args.format == "json":
        json.dump([r.to_dict() for r in reports], sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render_text(reports, colour=_colour_wanted()))
    sys.stdout.flush()
    return EXIT_OK if all(r.ok for r in reports) else EXIT_FAILED


_COLOURS = {"error": "31", "warning": "33", "info": "36"}


def _colour_wanted() -> bool:
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def render_text(reports: Sequence[Report], colour: bool = False) -> str:
    """One line per finding (`file: severity [code] symbol: message`), then a summary line."""
    def paint(code: str, text: str) -> str:
        return f"\033[{code}m{text}\033[0m" if colour else text

    lines = []
    counts = {"error": 0, "warning": 0, "info": 0}
    for report in reports:
        for f in report.findings:
            counts[f.severity] = counts.get(f.severity, 0) + 1
            symbol = f" {f.symbol}:" if f.symbol else ""
            lines.append(f"{report.path}: {paint(_COLOURS.get(f.severity, '0'), f.severity)} [{f.code}]{symbol} "
                         f"{f.message}")
        if report.ok:
            abi = f"ABI {report.abi}" if report.abi else "no ABI marker"
            lines.append(f"{report.path}: {paint('32', 'ok')} ({abi})")
    failed = sum(not r.ok for r in reports)
    files = f"{len(reports)} file{'s' if len(reports) != 1 else ''}"
    verdict = f"{failed} failed" if failed else "all passed"
    tally = ", ".join(f"{n} {k}{'s' if n != 1 and k != 'info' else ''}" for k, n in counts.items())
    lines.append(f"checked {files}: {verdict} ({tally})")
    return "\n".join(lines) + "\n"
