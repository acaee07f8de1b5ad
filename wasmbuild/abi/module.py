"""What the reader learns about a module: small immutable records, cheap to build.

These are `typing.NamedTuple`s rather than dataclasses on purpose: `import dataclasses` pulls in
`inspect` and costs about 9 ms, a third of the budget `wasmbuild check` has to stay as fast as
`wasm-tools validate` as a whole process. NamedTuples are just as frozen and typed.
"""

from __future__ import annotations

from typing import NamedTuple

# Section ids of the core binary format, in the order a module must place them.
SECTION_NAMES: dict[int, str] = {
    0: "custom", 1: "type", 2: "import", 3: "function", 4: "table", 5: "memory", 13: "tag",
    6: "global", 7: "export", 8: "start", 9: "element", 12: "datacount", 10: "code", 11: "data",
}
SECTION_ORDER: dict[int, int] = {sid: rank for rank, sid in enumerate(SECTION_NAMES)}

EXTERNAL_KINDS = ("func", "table", "memory", "global", "tag")
PAGE_SIZE = 65536


class FuncType(NamedTuple):
    """A function signature, e.g. `(i32, i32) -> i32`."""

    params: tuple[str, ...]
    results: tuple[str, ...]

    def __str__(self) -> str:
        results = ", ".join(self.results) if self.results else "()"
        if len(self.results) > 1:
            results = f"({results})"
        return f"({', '.join(self.params)}) -> {results}"


class Limits(NamedTuple):
    """Memory or table limits, in pages (memories) or elements (tables)."""

    minimum: int
    maximum: int | None
    shared: bool = False
    is64: bool = False

    def __str__(self) -> str:
        text = f"min {self.minimum}, max {'none' if self.maximum is None else self.maximum}"
        return text + (", shared" if self.shared else "") + (", 64-bit" if self.is64 else "")


class GlobalType(NamedTuple):
    valtype: str
    mutable: bool

    def __str__(self) -> str:
        return f"{'mut ' if self.mutable else ''}{self.valtype}"


class Import(NamedTuple):
    """One import. `type` is set for functions; `limits` for tables/memories; `glob` for globals."""

    module: str
    name: str
    kind: str  # one of EXTERNAL_KINDS
    type: FuncType | None = None
    limits: Limits | None = None
    glob: GlobalType | None = None

    @property
    def symbol(self) -> str:
        return f"{self.module}.{self.name}"


class Export(NamedTuple):
    """One export; `type` is the resolved signature for function exports, else None."""

    name: str
    kind: str  # one of EXTERNAL_KINDS
    index: int  # type: ignore[assignment]  # (shadows tuple.index, deliberately)
    type: FuncType | None = None


class Section(NamedTuple):
    """Where a section sits in the file; `name` is the custom section's name for id 0."""

    id: int
    name: str
    offset: int  # of the payload
    size: int  # of the payload

    @property
    def label(self) -> str:
        return f"custom:{self.name}" if self.id == 0 else self.name


class ReadError(NamedTuple):
    """Why the reader stopped: `not-wasm` (not a core module at all) or `malformed`."""

    code: str
    message: str
    offset: int | None = None
    hint: str = ""  # how to fix it, when the reader can tell


class ModuleInfo(NamedTuple):
    """Everything the reader parsed. When `error` is set, the fields hold what came before it."""

    size: int
    error: ReadError | None = None
    types: tuple[FuncType, ...] = ()
    imports: tuple[Import, ...] = ()
    functions: int = 0  # functions defined by the module (not imported)
    tables: tuple[Limits, ...] = ()
    memories: tuple[Limits, ...] = ()
    globals: tuple[GlobalType, ...] = ()
    exports: tuple[Export, ...] = ()
    start: int | None = None
    sections: tuple[Section, ...] = ()
    producers: tuple[tuple[str, str, str], ...] = ()  # (field, name, version) from the producers section

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
