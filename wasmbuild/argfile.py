"""Option values given as TEXT, @FILE or @- (standard input), read the same way by every command.

`wasmbuild run --plugin-config`, its bodies and `wasmbuild deploy --config` all take a value that
may be too long or too binary for a command line; one reader gives them one spelling and one set
of messages. What the bytes mean (JSON, a body) is the caller's business.
"""

from __future__ import annotations

import os
import sys

from wasmbuild.errors import UsageError


def read(value: str | None, option: str) -> bytes | None:
    """None for an absent option; the bytes of FILE for @FILE, of standard input for @-; else the
    text itself, as the bytes the user typed (argv is decoded with surrogateescape, so what is not
    UTF-8 comes back unchanged). A FILE that cannot be read is wasmbuild.files.read_bytes' error
    (not found 3, a directory 2, permission 8), naming the option as written."""
    if value is None:
        return None
    if not value.startswith("@"):
        return os.fsencode(value)
    name = value[1:]
    if not name:
        raise UsageError(f"{option} @ names no file", f"write {option} TEXT, {option} @FILE or {option} @- for stdin")
    if name == "-":
        return sys.stdin.buffer.read()
    from wasmbuild.files import read_bytes

    return read_bytes(name, f"{option} {value}")


def source(value: str) -> str:
    """How messages name where a value came from: the file, stdin, or "the value"."""
    if value == "@-":
        return "stdin"
    return value[1:] if value.startswith("@") else "the value"
