"""The header-map wire format and Envoy's editing rules."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wasmbuild.host import pairs
from wasmbuild.host.pairs import HeaderMap, MalformedPairs


def test_serialisation_matches_the_spec_example() -> None:
    assert pairs.serialize([(b"a", b"1"), (b"b", b"22")]) == bytes.fromhex(
        "02000000" "01000000" "01000000" "01000000" "02000000" "6100" "3100" "6200" "323200")
    assert pairs.serialize([(b":method", b"GET")]) == bytes.fromhex(
        "01000000" "07000000" "03000000" "3a6d6574686f6400" "47455400")


@given(st.lists(st.tuples(st.binary(max_size=40), st.binary(max_size=40)), max_size=30))
def test_round_trip(items: list[tuple[bytes, bytes]]) -> None:
    assert pairs.deserialize(pairs.serialize(items)) == items


@pytest.mark.parametrize("raw", [b"", b"\0", b"\0\0\0\0"])
def test_empty_maps_in_every_allowed_spelling(raw: bytes) -> None:
    assert pairs.deserialize(raw) == []


@pytest.mark.parametrize("raw, why", [
    (b"\x01\0\0\0", "says 1 pairs"),
    (bytes.fromhex("01000000" "05000000" "00000000") + b"ab\0\0", "runs past the end"),
    (bytes.fromhex("01000000" "01000000" "01000000") + b"aXbX", "not NUL-terminated"),
    (pairs.serialize([(b"a", b"b")]) + b"zz", "left over"),
    (b"\xff\xff\0\0" + b"\0" * 16, "pair limit"),
])
def test_malformed_maps_are_rejected_with_a_reason(raw: bytes, why: str) -> None:
    with pytest.raises(MalformedPairs, match=why):
        pairs.deserialize(raw)


def test_header_map_lowercases_and_keeps_order_and_duplicates() -> None:
    m = HeaderMap([("X-A", "1"), ("set-cookie", "a"), ("Set-Cookie", "b")])
    assert m.pairs() == [(b"x-a", b"1"), (b"set-cookie", b"a"), (b"set-cookie", b"b")]
    assert m.get(b"SET-COOKIE") == b"a"
    assert m.byte_size() == len("x-a1set-cookieaset-cookieb")


def test_replace_is_envoys_set_copy_remove_then_append() -> None:
    m = HeaderMap([("location", "a"), ("x", "1"), ("location", "b")])
    m.replace(b"Location", b"envoy-wasm")
    assert m.pairs() == [(b"x", b"1"), (b"location", b"envoy-wasm")]
    m.replace(b"new", b"v")
    assert m.pairs()[-1] == (b"new", b"v")
    m.remove(b"X")
    assert m.get(b"x") is None
