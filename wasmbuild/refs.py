"""Image references (`[registry[:port]/]path[:tag][@sha256:...]`), parsed and validated once.

The grammar is the distribution/reference one Docker uses, so a ref that wasmbuild accepts is one
that docker, skopeo and Istio accept too. A ref without a tag or digest means `:latest`.
"""

from __future__ import annotations

import re

from wasmbuild.errors import UsageError
from wasmbuild.record import Record

_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"

_PATH_RE = re.compile(rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*")
_DOMAIN_RE = re.compile(_DOMAIN)
_TAG_RE = re.compile(_TAG)
_DIGEST_RE = re.compile(_DIGEST)

EXAMPLE = "localhost:5000/filters/add-header:v1"


class Reference(Record):
    """A parsed image reference. `registry` is None for store-only names like `add-header:v1`."""

    _fields = ("registry", "repository", "tag", "digest")
    __slots__ = _fields
    registry: str | None
    repository: str
    tag: str | None
    digest: str | None

    def __init__(self, registry: str | None, repository: str, tag: str | None = None,
                 digest: str | None = None) -> None:
        self._set(registry, repository, tag, digest)

    @property
    def name(self) -> str:
        """Registry and repository, without tag or digest."""
        return f"{self.registry}/{self.repository}" if self.registry else self.repository

    @property
    def reference(self) -> str:
        """What a registry's manifest endpoint takes: the digest if any, else the tag."""
        return self.digest or self.tag or "latest"

    def __str__(self) -> str:
        text = self.name
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def _invalid(text: str, why: str) -> UsageError:
    return UsageError(f"invalid image reference {text!r}: {why}",
                      f"use [REGISTRY/]NAME[:TAG], for example {EXAMPLE}")


def parse(text: str) -> Reference:
    """Parse `text`; a missing tag and digest become `:latest`. Raises UsageError."""
    if not text or text != text.strip():
        raise _invalid(text, "it is empty or has surrounding spaces")
    rest, digest = text, None
    if "@" in rest:
        rest, digest = rest.split("@", 1)
        if not _DIGEST_RE.fullmatch(digest):
            raise _invalid(text, f"{digest!r} is not a digest like sha256:<64 hex digits>")
    tag = None
    slash = rest.rfind("/")
    colon = rest.rfind(":")
    if colon > slash:
        rest, tag = rest[:colon], rest[colon + 1 :]
        if not _TAG_RE.fullmatch(tag):
            raise _invalid(text, f"tag {tag!r} must be letters, digits, '_', '.' or '-' (at most 128)")
    registry = None
    first, sep, remainder = rest.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost" or first != first.lower()):
        registry, rest = first, remainder
        if not _DOMAIN_RE.fullmatch(registry):
            raise _invalid(text, f"{registry!r} is not a registry host[:port]")
    if not rest or not _PATH_RE.fullmatch(rest):
        raise _invalid(text, "names are lower-case letters, digits and separators ('.', '_', '-', '/')")
    if len(rest) + (len(registry) + 1 if registry else 0) > 255:
        raise _invalid(text, "the name is longer than 255 characters")
    if tag is None and digest is None:
        tag = "latest"
    return Reference(registry, rest, tag, digest)


def normalize(text: str) -> str:
    """The canonical spelling of a ref: parsed and printed (`x` -> `x:latest`)."""
    return str(parse(text))
