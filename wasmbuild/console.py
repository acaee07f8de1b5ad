"""Messages for people: step lines on stderr, colour only on a TTY without NO_COLOR, and tqdm bars
only when stderr is a terminal (CI logs get one line per step instead of redraws)."""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager

TYPE_CHECKING = False  # not `from typing import ...`: every command prints through here (see wasmbuild.record)
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import IO, Any


def _stream() -> IO[str]:
    return sys.stderr


def interactive() -> bool:
    """True when stdin and stderr are terminals: we may prompt and draw progress bars."""
    try:
        return sys.stdin.isatty() and _stream().isatty()
    except (AttributeError, ValueError):
        return False


def _colour(code: str, text: str) -> str:
    stream = _stream()
    if os.environ.get("NO_COLOR") or not getattr(stream, "isatty", lambda: False)():
        return text
    return f"\033[{code}m{text}\033[0m"


def error_label() -> str:
    """`error:` as the CLI prints it: red on a terminal, like `warning:` is yellow."""
    return _colour("1;31", "error:")


def step(message: str) -> None:
    """A stage of a longer job starts (`==> building in container`)."""
    print(_colour("1;34", "==>") + " " + message, file=_stream(), flush=True)


def info(message: str) -> None:
    print(message, file=_stream(), flush=True)


def warn(message: str) -> None:
    print(_colour("33", "warning:") + " " + message, file=_stream(), flush=True)


def done(message: str) -> None:
    print(_colour("32", "✓") + " " + message, file=_stream(), flush=True)


class _NoBar:
    """Stands in for a tqdm bar when there is no terminal."""

    def update(self, n: int = 1) -> None:
        pass

    def set_postfix_str(self, s: str) -> None:
        pass

    @property
    def total(self) -> float | None:
        return None

    @total.setter
    def total(self, value: float | None) -> None:
        pass

    def refresh(self) -> None:
        pass


@contextmanager
def progress(description: str, total: float | None = None, unit: str = "B") -> Iterator[Any]:
    """A tqdm bar on a terminal (bytes scaled by default), a no-op otherwise."""
    stream = _stream()
    if not getattr(stream, "isatty", lambda: False)() or os.environ.get("WASMBUILD_NO_PROGRESS"):
        yield _NoBar()
        return
    from tqdm import tqdm

    bar = tqdm(total=total, desc=description, unit=unit, unit_scale=unit == "B", unit_divisor=1024,
               file=stream, leave=False, dynamic_ncols=True)
    try:
        yield bar
    finally:
        bar.close()
