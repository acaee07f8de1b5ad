"""Option values given as TEXT, @FILE or @- (standard input), read the same way by every command.

`wasmbuild run --plugin-config`, its bodies and `wasmbuild deploy --config` all take a value that
may be too long or too binary for a command line; one reader gives them one spelling and one set
of messages. What the bytes mean (JSON, a body) is the caller's business.
"""

from __future__ import annotations

import sys
from pathlib import Path

from wasmbuild.errors import UsageError, from_os_error


def read(value: str | None, option: str) -> bytes | None:
    """None for an absent option; the bytes of FILE for @FILE, of standard input for @-; else the
    text itself as UTF-8. An unreadable FILE raises the error from_os_error picks (not found 3,
    permission 8), naming the option."""
    if value is None:
        return None
    if not value.startswith("@"):
        return value.encode("utf-8", "surrogateescape")  # the bytes as they were on the command line
    name = value[1:]
    if not name:
        raise UsageError(f"{option} @ names no file", f"write {option} TEXT, {option} @FILE or {option} @- for stdin")
    if name == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(name).read_bytes()
    except OSError as exc:
        raise from_os_error(OSError(exc.errno, exc.strerror), f"{option} @{name}") from None


def source(value: str) -> str:
    """How messages name where a value came from: the file, stdin, or "the value"."""
    if value == "@-":
        return "stdin"
    return value[1:] if value.startswith("@") else "the value"
