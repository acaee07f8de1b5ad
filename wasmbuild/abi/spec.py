"""The proxy-wasm ABI facts (exports, imports, signatures, enums per ABI version), loaded from the
JSON that ships as package data. Both the checker and the local host read their tables from here,
so the ABI is described once, as data, not retyped into code.

(os.path rather than pathlib: `wasmbuild check` loads this on every run and pathlib's import costs
a few milliseconds of the start-up budget.)
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from typing import Any

DATA_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "proxy-wasm-abi.json")


@lru_cache(maxsize=1)
def load() -> dict[str, Any]:
    """The parsed ABI reference (see data/proxy-wasm-abi.json)."""
    with open(DATA_FILE, encoding="utf-8") as stream:
        data: dict[str, Any] = json.load(stream)
    return data
