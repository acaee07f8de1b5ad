"""Headers as tests see them, and the conversions from what tests pass in."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Literal, TypeAlias

from wasmbuild.host.pairs import HeaderMap, Pair, to_bytes

Action = Literal["continue", "pause"]
CONTINUE: Action = "continue"
PAUSE: Action = "pause"

HeadersLike: TypeAlias = "Mapping[str, str] | Iterable[tuple[str | bytes, str | bytes]] | Headers"

DEFAULT_REQUEST_HEADERS: tuple[tuple[str, str], ...] = (
    (":method", "GET"), (":path", "/"), (":authority", "localhost"), (":scheme", "http"))
DEFAULT_RESPONSE_HEADERS: tuple[tuple[str, str], ...] = ((":status", "200"),)


class Headers:
    """Headers (or trailers) in order, as the filter left them. Names are lower-case.

    >>> h = Headers([(":status", "200"), ("set-cookie", "a=1"), ("set-cookie", "b=2")])
    >>> h["set-cookie"], h.get_all("set-cookie"), "x-missing" in h
    ('a=1', ['a=1', 'b=2'], False)
    >>> h == [(":status", "200"), ("set-cookie", "a=1"), ("set-cookie", "b=2")]
    True
    """

    __slots__ = ("_pairs",)

    def __init__(self, pairs: Iterable[tuple[str | bytes, str | bytes]] = ()) -> None:
        self._pairs: list[tuple[str, str]] = [
            (k.decode("utf-8", "replace") if isinstance(k, bytes) else k,
             v.decode("utf-8", "replace") if isinstance(v, bytes) else v) for k, v in pairs]

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value of `name` (case-insensitive), or `default`."""
        name = name.lower()
        return next((v for k, v in self._pairs if k.lower() == name), default)

    def get_all(self, name: str) -> list[str]:
        name = name.lower()
        return [v for k, v in self._pairs if k.lower() == name]

    def __getitem__(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise KeyError(f"no header {name!r} in {self!r}")
        return value

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def items(self) -> list[tuple[str, str]]:
        return list(self._pairs)

    def names(self) -> list[str]:
        return [k for k, _ in self._pairs]

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(list(self._pairs))

    def __len__(self) -> int:
        return len(self._pairs)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Headers):
            return self._pairs == other._pairs
        if isinstance(other, Mapping):
            return dict(self._pairs) == dict(other) and len(self._pairs) == len(other)
        if isinstance(other, (list, tuple)):
            return self._pairs == [tuple(p) for p in other]
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Headers({self._pairs!r})"


DEFAULT_REQUEST_PAIRS = tuple((k.encode(), v.encode()) for k, v in DEFAULT_REQUEST_HEADERS)
DEFAULT_RESPONSE_PAIRS = tuple((k.encode(), v.encode()) for k, v in DEFAULT_RESPONSE_HEADERS)


def to_pairs(headers: HeadersLike | None, default: Iterable[Pair] = ()) -> list[Pair]:
    if headers is None:
        return list(default)
    if isinstance(headers, Headers):
        items: Iterable[Any] = headers.items()
    elif isinstance(headers, Mapping):
        items = headers.items()
    else:
        items = headers
    return [(to_bytes(k).lower(), to_bytes(v)) for k, v in items]


def headers_view(found: HeaderMap | None) -> Headers:
    return Headers(found.pairs() if found is not None else [])
