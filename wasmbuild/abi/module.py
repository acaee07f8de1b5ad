"""What the reader learns about a module: small immutable records, cheap to build.

Records (wasmbuild.record), not dataclasses or NamedTuples: see record.py for the start-up
cost that rules those out.
"""

from __future__ import annotations

from wasmbuild.record import Record

_set = object.__setattr__  # the hot records (one per import/export) assign their fields directly

# Section ids of the core binary format, in the order a module must place them.
SECTION_NAMES: dict[int, str] = {
    0: "custom", 1: "type", 2: "import", 3: "function", 4: "table", 5: "memory", 13: "tag",
    6: "global", 7: "export", 8: "start", 9: "element", 12: "datacount", 10: "code", 11: "data",
}
SECTION_ORDER: dict[int, int] = {sid: rank for rank, sid in enumerate(SECTION_NAMES)}

EXTERNAL_KINDS = ("func", "table", "memory", "global", "tag")
PAGE_SIZE = 65536


class FuncType(Record):
    """A function signature, e.g. `(i32, i32) -> i32`."""

    _fields = ("params", "results")  # the order of __init__'s parameters
    __slots__ = _fields
    params: tuple[str, ...]
    results: tuple[str, ...]

    def __init__(self, params: tuple[str, ...], results: tuple[str, ...]) -> None:
        _set(self, "params", params)
        _set(self, "results", results)

    def __eq__(self, other: object) -> bool:  # compared for every import and export: keep it direct
        if type(other) is not FuncType:
            return NotImplemented
        return self.params == other.params and self.results == other.results

    def __hash__(self) -> int:
        return hash((self.params, self.results))

    def __str__(self) -> str:
        results = ", ".join(self.results) if self.results else "()"
        if len(self.results) > 1:
            results = f"({results})"
        return f"({', '.join(self.params)}) -> {results}"


class Limits(Record):
    """Memory or table limits, in pages (memories) or elements (tables)."""

    _fields = ("minimum", "maximum", "shared", "is64")  # the order of __init__'s parameters
    __slots__ = _fields
    minimum: int
    maximum: int | None
    shared: bool
    is64: bool

    def __init__(self, minimum: int, maximum: int | None, shared: bool = False, is64: bool = False) -> None:
        self._set(minimum, maximum, shared, is64)

    def __str__(self) -> str:
        text = f"min {self.minimum}, max {'none' if self.maximum is None else self.maximum}"
        return text + (", shared" if self.shared else "") + (", 64-bit" if self.is64 else "")


class GlobalType(Record):
    _fields = ("valtype", "mutable")  # the order of __init__'s parameters
    __slots__ = _fields
    valtype: str
    mutable: bool

    def __init__(self, valtype: str, mutable: bool) -> None:
        self._set(valtype, mutable)

    def __str__(self) -> str:
        return f"{'mut ' if self.mutable else ''}{self.valtype}"


class Import(Record):
    """One import. `type` is set for functions; `limits` for tables/memories; `glob` for globals."""

    _fields = ("module", "name", "kind", "type", "limits", "glob")  # the order of __init__'s parameters
    __slots__ = _fields
    module: str
    name: str
    kind: str  # one of EXTERNAL_KINDS
    type: FuncType | None
    limits: Limits | None
    glob: GlobalType | None

    def __init__(self, module: str, name: str, kind: str, type: FuncType | None = None,
                 limits: Limits | None = None, glob: GlobalType | None = None) -> None:
        _set(self, "module", module)
        _set(self, "name", name)
        _set(self, "kind", kind)
        _set(self, "type", type)
        _set(self, "limits", limits)
        _set(self, "glob", glob)

    @property
    def symbol(self) -> str:
        return f"{self.module}.{self.name}"


class Export(Record):
    """One export; `type` is the resolved signature for function exports, else None."""

    _fields = ("name", "kind", "index", "type")  # the order of __init__'s parameters
    __slots__ = _fields
    name: str
    kind: str  # one of EXTERNAL_KINDS
    index: int
    type: FuncType | None

    def __init__(self, name: str, kind: str, index: int, type: FuncType | None = None) -> None:
        _set(self, "name", name)
        _set(self, "kind", kind)
        _set(self, "index", index)
        _set(self, "type", type)


class Section(Record):
    """Where a section sits in the file; `name` is the custom section's name for id 0."""

    _fields = ("id", "name", "offset", "size")  # the order of __init__'s parameters
    __slots__ = _fields
    id: int
    name: str
    offset: int  # of the payload
    size: int  # of the payload

    def __init__(self, id: int, name: str, offset: int, size: int) -> None:
        self._set(id, name, offset, size)

    @property
    def label(self) -> str:
        return f"custom:{self.name}" if self.id == 0 else self.name


class ReadError(Record):
    """Why the reader stopped: `not-wasm` (not a core module at all) or `malformed`."""

    _fields = ("code", "message", "offset", "hint")  # the order of __init__'s parameters
    __slots__ = _fields
    code: str
    message: str
    offset: int | None
    hint: str  # how to fix it, when the reader can tell

    def __init__(self, code: str, message: str, offset: int | None = None, hint: str = "") -> None:
        self._set(code, message, offset, hint)


class ModuleInfo(Record):
    """Everything the reader parsed. When `error` is set, the fields hold what came before it."""

    _fields = (  # the order of __init__'s parameters
        "size", "error", "types", "imports", "functions", "tables", "memories", "globals", "exports",
        "start", "sections", "producers",
    )
    __slots__ = _fields
    size: int
    error: ReadError | None
    types: tuple[FuncType, ...]
    imports: tuple[Import, ...]
    functions: int  # functions defined by the module (not imported)
    tables: tuple[Limits, ...]
    memories: tuple[Limits, ...]
    globals: tuple[GlobalType, ...]
    exports: tuple[Export, ...]
    start: int | None
    sections: tuple[Section, ...]
    producers: tuple[tuple[str, str, str], ...]  # (field, name, version) from the producers section

    def __init__(self, size: int, error: ReadError | None = None, types: tuple[FuncType, ...] = (),
                 imports: tuple[Import, ...] = (), functions: int = 0, tables: tuple[Limits, ...] = (),
                 memories: tuple[Limits, ...] = (), globals: tuple[GlobalType, ...] = (),
                 exports: tuple[Export, ...] = (), start: int | None = None, sections: tuple[Section, ...] = (),
                 producers: tuple[tuple[str, str, str], ...] = ()) -> None:
        self._set(size, error, types, imports, functions, tables, memories, globals, exports, start, sections,
                  producers)

    @property
    def ok(self) -> bool:
        return self.error is None

    def export(self, name: str) -> Export | None:
        for export in self.exports:
            if export.name == name:
                return export
        return None

    def custom_sections(self) -> tuple[Section, ...]:
        return tuple(s for s in self.sections if s.id == 0)

    def imported(self, kind: str) -> tuple[Import, ...]:
        return tuple(i for i in self.imports if i.kind == kind)
