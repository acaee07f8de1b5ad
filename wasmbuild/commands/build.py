"""`wasmbuild build [PATH]`: compile a project hermetically into a checked .wasm.

Ends with one line on stdout: path, size, sha256, ABI version, seconds, and whether the build
cache answered. Compiler output streams to stderr as it comes.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from types import FrameType


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", nargs="?", metavar="PATH",
                        help="the project directory (default: the one holding the current directory, as cargo "
                             "and git find theirs)")
    parser.add_argument("--backend", choices=("auto", "container", "host"),
                        help="where to compile: the builder container, this machine's tools, or auto "
                             "(the container when the Docker daemon answers; default: wasmbuild.toml, else auto)")
    parser.add_argument("-t", "--tag", dest="ref", metavar="REF",
                        help="store the module under this reference (default: wasmbuild.toml [package] ref, "
                             "else NAME:latest)")
    parser.add_argument("--no-cache", action="store_true", help="compile even when the build cache has the module")
    parser.add_argument("-o", "--output", metavar="FILE",
                        help="write the module here (default: wasmbuild.toml [build] output, build/filter.wasm)")
    parser.add_argument("--toolchain", choices=("clang", "emscripten", "zig"),
                        help="C++ only: the compiler (default: wasmbuild.toml, else clang)")
    parser.add_argument("--mode", choices=("bazel", "direct"),
                        help="C++ only: build through Bazel or call the compiler directly (default: wasmbuild.toml)")


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _enclosing_project() -> str:
    """The nearest directory at or above the current one with a wasmbuild.toml (else ".", whose
    error then says it is not a project): `wasmbuild build` works from src/ as from the top."""
    from pathlib import Path

    from wasmbuild.host.discovery import find_project

    here = Path.cwd().resolve()
    directory = find_project(here)
    return "." if directory is None or directory == here else str(directory)


def run(args: argparse.Namespace) -> int:
    from wasmbuild.build.deliver import BuildRequest
    from wasmbuild.build.noop import try_noop
    from wasmbuild.build.units import human_size
    from wasmbuild.errors import UsageError

    # an empty value is a script's unset variable (`-t "$TAG"`), not a request for the default
    if args.ref is not None and not args.ref.strip():
        raise UsageError("-t/--tag is empty", "give a reference like add-header:v1, or leave -t out for the default")
    if args.output is not None and not args.output.strip():
        raise UsageError("-o/--output is empty", "give a file path, or leave -o out for [build] output")
    path = args.path if args.path is not None else _enclosing_project()
    request = BuildRequest(path, args.backend, args.ref, args.no_cache, args.output, args.toolchain, args.mode)
    previous = signal.signal(signal.SIGTERM, _terminate)  # clean up (the container) as on Ctrl-C
    try:
        result = try_noop(request)  # an unchanged project: milliseconds, nothing heavy imported
        if result is None:
            from wasmbuild.build.pipeline import build

            result = build(request)
    finally:
        signal.signal(signal.SIGTERM, previous)
    try:
        shown = os.path.relpath(result.path)
    except ValueError:
        shown = str(result.path)
    if shown.startswith(".."):
        shown = str(result.path)
    status = "cache hit" if result.cache_hit else f"built ({result.backend})"
    sys.stdout.write(f"{shown}  {human_size(result.size)}  sha256:{result.sha256}  ABI {result.abi or '?'}  "
                     f"{result.seconds:.{2 if result.seconds >= 0.1 else 3}f}s  {status}\n")
    return 0
