"""The proxy-wasm ABI facts (exports, imports, signatures, enums per ABI version), loaded from the
JSON that ships as package data. Both the checker and the local host read their tables from here,
so the ABI is described once, as data, not retyped into code.

(os.path rather than pathlib, no typing import: `wasmbuild check` loads this on every run and
those imports cost milliseconds of its start-up budget.)
"""

from __future__ import annotations

import json
import os
from functools import lru_cache

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

DATA_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "proxy-wasm-abi.json")


@lru_cache(maxsize=1)
def load() -> dict[str, Any]:
    """The parsed ABI reference (see data/proxy-wasm-abi.json)."""
    with open(DATA_FILE, encoding="utf-8") as stream:
        data: dict[str, Any] = json.load(stream)
    return data


def versions() -> tuple[str, ...]:
    """The ABI versions hosts accept ("0.1.0", ...): abi_markers keys that are version numbers
    (the data also lists the work-in-progress vNEXT marker, which no host accepts)."""
    return tuple(v for v in load()["abi_markers"] if v.replace(".", "").isdigit())
