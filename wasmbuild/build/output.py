"""Relaying compiler output: streamed to the terminal as it comes, with the scratch copy's paths
turned back into the project's (so `filter.cc:12:3: error` points at the file the user edits),
and the last lines kept for the error message."""

from __future__ import annotations

import os
import re
import sys
from collections import deque
from pathlib import Path
from typing import IO

from wasmbuild.errors import BuildError

TAIL_LINES = 20
# Lines every build prints that say nothing about it (Debian's Bazel starts its JVM with an option
# JDK 17 deprecates); dropped so that what remains is worth reading.
NOISE = ("OpenJDK 64-Bit Server VM warning: Options -Xverify:none and -noverify were deprecated",)
# Diagnostics that name a source relative to the project: clang/emcc/Bazel (`filter.cc:12:3:`),
# cargo (`--> src/lib.rs:3:5`), asc (`in assembly/index.ts(3,5)` and ` assembly/index.ts:3:5`).
_RELATIVE_SOURCE = re.compile(r"(^|--> |\bin |^\s+)(?![/.])([\w-][\w./-]*\.(?:c|cc|cpp|cxx|h|hh|hpp|rs|ts))(?=[:(])")


def project_prefix(project: Path) -> str:
    """How the user's shell reaches the project: relative when below the cwd, else absolute."""
    try:
        relative = os.path.relpath(project)
    except ValueError:
        return str(project)
    if relative == ".":
        return ""
    return str(project) if relative.startswith("..") else relative


class Relay:
    def __init__(self, rewrites: dict[str, str], stream: IO[str] | None = None, prefix: str = "") -> None:
        self._rewrites = sorted(rewrites.items(), key=lambda item: -len(item[0]))
        self._prefix = prefix.rstrip("/") + "/" if prefix else ""
        self._stream = stream or sys.stderr
        self._partial = ""
        self.tail: deque[str] = deque(maxlen=TAIL_LINES)

    def feed(self, chunk: bytes | str) -> None:
        text = chunk.decode("utf-8", errors="replace") if isinstance(chunk, bytes) else chunk
        text = self._partial + text
        lines = text.split("\n")
        self._partial = lines.pop()
        for line in lines:
            self._emit(line)

    def close(self) -> None:
        if self._partial:
            self._emit(self._partial)
            self._partial = ""

    def _emit(self, line: str) -> None:
        if line.startswith(NOISE):
            return
        for old, new in self._rewrites:
            line = line.replace(old, new)
        if self._prefix:
            line = _RELATIVE_SOURCE.sub(lambda m: m.group(1) + self._prefix + m.group(2), line)
        if line.strip():
            self.tail.append(line.rstrip())
        self._stream.write(line + "\n")
        self._stream.flush()

    def failure(self, what: str, code: int, hint: str | None = None) -> BuildError:
        """The BuildError for a failed step: what failed, then the compiler's last lines."""
        last = [line for line in self.tail if line.strip()][-12:]
        body = "\n".join("  " + line for line in last)
        message = f"{what} failed (exit {code})" + (f"; its last lines:\n{body}" if body else "")
        return BuildError(message, hint or "fix the error above and run 'wasmbuild build' again")
