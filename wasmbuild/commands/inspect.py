"""`wasmbuild inspect FILE`: what a reviewer wants to see of a .wasm at a glance.

ABI version, imports grouped by module, exported callbacks, memory limits, section sizes, name
section and debug info, and the check verdict. Exit 0 when the module could be read (whatever the
verdict: `wasmbuild check` is the gate), 1 for a file that is not a readable wasm module.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from wasmbuild.commands.check import STDIN, STDIN_NAME, read_stdin
from wasmbuild.errors import EXIT_FAILED, EXIT_OK, NotFoundError, StorageError, UsageError, WasmbuildError

TYPE_CHECKING = False  # not `from typing import ...`: --help stays light (see wasmbuild.cli)
if TYPE_CHECKING:
    from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="the .wasm module ('-' reads it from stdin)")
    parser.add_argument("--format", default="text", choices=("text", "json"), help="output format (default: text)")


def run(args: argparse.Namespace) -> int:
    from wasmbuild.abi import check
    from wasmbuild.abi.summary import summarize

    path = args.file
    if path == STDIN:
        path = STDIN_NAME
        report = check(read_stdin())._replace(path=path)
    elif not os.path.lexists(path):
        raise NotFoundError(f"{path}: no such file", "check the path (did the build produce it?)")
    elif os.path.isdir(path):
        raise UsageError(f"{path} is a directory", "give the path of a .wasm file")
    else:
        report = check(path)
    if report.module is None:
        message, _, fix = report.findings[0].message.partition(". Fix: ")
        raise StorageError(message, fix or None)
    error = report.module.error
    if error is not None and error.code == "not-wasm":
        raise WasmbuildError(f"{path}: not a WebAssembly module: {error.message}", error.hint or None)
    view = summarize(report)
    if args.format == "json":
        json.dump(view, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render_text(view))
    return EXIT_FAILED if error is not None else EXIT_OK


def size(n: int) -> str:
    """1536 -> '1.5 KiB'."""
    value = float(n)
    for unit in ("B", "KiB", "MiB"):
        if round(value, 1) < 1024 or unit == "MiB":
            return f"{n} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def _names(items: list[str], limit: int = 12) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f", ... ({len(items) - limit} more)" if len(items) > limit else "")


def _memory(memory: dict[str, Any]) -> str:
    where = (f"exported as {', '.join(repr(n) for n in memory['exported_as'])}" if memory["exported_as"]
             else "not exported")
    if memory["imported_from"]:
        where = f"imported from {memory['imported_from']}, {where}"
    if "min_pages" not in memory:
        return where
    top = "no maximum"
    if memory["max_pages"] is not None:
        top = f"max {memory['max_pages']} pages ({size(memory['max_bytes'])})"
    return f"{where}: {memory['min_pages']} pages ({size(memory['min_bytes'])}) initial, {top}"


def render_text(view: dict[str, Any]) -> str:
    counts = view["findings"]
    if view["ok"] and not any(counts.values()):
        verdict = "ok"
    else:
        parts = [f"{n} {k}{'s' if n != 1 and k != 'info' else ''}" for k, n in counts.items() if n]
        verdict = ("ok, " if view["ok"] else "FAILS, ") + ", ".join(parts) + f" ({', '.join(view['codes'])})"
    abi = f"ABI {view['abi']} ({view['marker']})" if view["abi"] else "no ABI marker"
    rows: list[tuple[str, str]] = [("module", f"{view['path']}: {size(view['size'])}, {abi}"),
                                   ("check", verdict + ("" if view["ok"] else "; run 'wasmbuild check' for details"))]
    if view["error"]:
        rows.append(("error", view["error"] + " (what follows was read before it)"))
    if view["producers"]:
        rows.append(("producers", "; ".join(f"{k} {', '.join(v)}" for k, v in view["producers"].items())))
    for memory in view["memories"] or [None]:
        rows.append(("memory", _memory(memory) if memory else "none"))
    rows.append(("allocator", ", ".join(view["allocators"]) or "none"))
    rows.append(("entry", ", ".join(view["entry_points"]) or "none"))
    rows.append(("callbacks", f"{len(view['callbacks'])}: {_names(view['callbacks'], 40)}" if view["callbacks"]
                 else "none"))
    if view["other_exports"]:
        others = [e["name"] for e in view["other_exports"]]
        rows.append(("exports", f"{len(others)} more: {_names(others)}"))
    if not view["imports"]:
        rows.append(("imports", "none"))
    for module, items in view["imports"].items():
        rows.append(("imports", f"{module} ({len(items)}): {_names([i['name'] for i in items], 60)}"))
    functions = view["functions"]
    rows.append(("functions", f"{functions['imported']} imported, {functions['defined']} defined"
                 + (f", start function {view['start']}" if view["start"] is not None else "")))
    rows.append(("sections", ", ".join(f"{s['name']} {size(s['size'])}" for s in view["sections"]) or "none"))
    debug = ", ".join(view["debug_sections"]) or "none"
    rows.append(("debug", f"name section: {'yes' if view['name_section'] else 'no'}; debug info: {debug}"))
    width = max(len(label) for label, _ in rows) + 2
    lines, previous = [], None
    for label, text in rows:
        lines.append(f"{(label + ':') if label != previous else '':<{width}}{text}")
        previous = label
    return "\n".join(lines) + "\n"
