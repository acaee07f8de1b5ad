"""Immutable value objects without `dataclasses` or `typing.NamedTuple`.

Both are the obvious choice and both are too slow to import for the commands whose start-up is
most of what they cost: `wasmbuild check` (which must start as fast as `wasm-tools validate`),
`push` and `pull` (measured against skopeo), `list` and the no-op build. `import dataclasses`
pulls in `inspect` (~9 ms here), and NamedTuple needs `typing` (~4 ms) plus ~0.25 ms per class.
A Record is a __slots__ class: fields in `_fields` order, value equality, hash and repr,
`_replace`, and no attribute setting. The values those commands pass around (wasmbuild.abi's,
refs.Reference, store.StoreEntry, wasmbuild.oci's) are Records; elsewhere dataclasses are fine.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeVar

    R = TypeVar("R", bound="Record")


class Record:
    """Subclasses set `_fields` (the order of their __init__'s parameters), `__slots__ = _fields`,
    and an __init__ that calls `self._set(...)` with every field."""

    __slots__ = ()
    _fields: tuple[str, ...] = ()

    def _set(self, *values: object) -> None:
        """For subclasses' __init__: assign `values` to the fields in `_fields` order."""
        setter = object.__setattr__
        for field, value in zip(self._fields, values, strict=True):
            setter(self, field, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable; use _replace()")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def _values(self) -> tuple[Any, ...]:
        return tuple([getattr(self, field) for field in self._fields])

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._values() == other._values()  # type: ignore[attr-defined, no-any-return]

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._values()))

    def __repr__(self) -> str:
        fields = ", ".join(f"{field}={getattr(self, field)!r}" for field in self._fields)
        return f"{type(self).__name__}({fields})"

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), self._values()

    def _replace(self: R, **changes: Any) -> R:
        """A copy with some fields changed (NamedTuple's spelling, which callers know)."""
        unknown = set(changes) - set(self._fields)
        if unknown:
            raise TypeError(f"{type(self).__name__} has no field {', '.join(sorted(unknown))}")
        copy = object.__new__(type(self))
        copy._set(*(changes.get(field, getattr(self, field)) for field in self._fields))
        return copy

    def _asdict(self) -> dict[str, Any]:
        return {field: getattr(self, field) for field in self._fields}
