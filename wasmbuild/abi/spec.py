"""The proxy-wasm ABI facts (exports, imports, signatures, enums per ABI version), loaded from the
JSON that ships as package data. Both the checker and the local host read their tables from here,
so the ABI is described once, as data, not retyped into code."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

DATA_FILE = Path(__file__).resolve().parent / "data" / "proxy-wasm-abi.json"


@lru_cache(maxsize=1)
def load() -> dict[str, Any]:
    """The parsed ABI reference (see data/proxy-wasm-abi.json)."""
    data: dict[str, Any] = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    return data
