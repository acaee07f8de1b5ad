"""Relaying compiler output: streamed to the terminal as it comes, with the scratch copy's paths
turned back into the project's (so `filter.cc:12:3: error` points at the file the user edits),
and the last lines kept for the error message."""

from __future__ import annotations

import sys
from collections import deque
from typing import IO

from wasmbuild.errors import BuildError

TAIL_LINES = 20


class Relay:
    def __init__(self, rewrites: dict[str, str], stream: IO[str] | None = None) -> None:
        self._rewrites = sorted(rewrites.items(), key=lambda item: -len(item[0]))
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
        for old, new in self._rewrites:
            line = line.replace(old, new)
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
