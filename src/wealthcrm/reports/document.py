"""A report as data that every renderer reads: sections of headline figures, tables and charts, with
the definition of each figure. Words are English msgids translated when rendered (:mod:`.i18n`);
numbers stay numbers, tagged with how they are shown (:data:`Kind`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

#: how a value is shown: ``label`` is a msgid to translate, ``text`` is shown as is (names, months);
#: ``cny`` an amount, ``pct`` a share (0.125 → 12.5%), ``num1``/``num2`` decimals, ``int`` a count
Kind = Literal["label", "text", "int", "cny", "pct", "num1", "num2"]
ChartKind = Literal["bar", "line", "stack"]


@dataclass(frozen=True, slots=True)
class Label:
    """A word to translate inside a message's parameters."""

    msgid: str


@dataclass(frozen=True, slots=True)
class Num:
    """A number inside a message's parameters, shown as ``kind``."""

    value: float | int | None
    kind: Kind = "int"


@dataclass(frozen=True, slots=True)
class Text:
    """A sentence: a msgid with ``{placeholders}`` filled from ``params``."""

    msgid: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    title: str
    kind: Kind = "int"


@dataclass(frozen=True, slots=True)
class Table:
    key: str
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Any, ...], ...]

    def records(self) -> list[dict[str, Any]]:
        """The rows as dicts keyed by column key (raw values)."""
        return [dict(zip((c.key for c in self.columns), row, strict=True)) for row in self.rows]


@dataclass(frozen=True, slots=True)
class Series:
    name: str  # msgid
    values: tuple[float | int | None, ...]


@dataclass(frozen=True, slots=True)
class Chart:
    key: str
    title: str
    kind: ChartKind
    categories: tuple[str, ...]
    series: tuple[Series, ...]
    unit: Kind = "int"
    categories_kind: Kind = "label"


@dataclass(frozen=True, slots=True)
class Figure:
    """A headline number of a section."""

    key: str
    title: str
    value: float | int | None
    kind: Kind = "int"


@dataclass(frozen=True, slots=True)
class Section:
    key: str
    title: str
    figures: tuple[Figure, ...] = ()
    tables: tuple[Table, ...] = ()
    charts: tuple[Chart, ...] = ()
    #: (term msgid, definition) of every figure the section shows
    definitions: tuple[tuple[str, Text], ...] = ()
    notes: tuple[Text, ...] = ()

    def table(self, key: str) -> Table:
        return next(t for t in self.tables if t.key == key)

    def figure(self, key: str) -> Figure:
        return next(f for f in self.figures if f.key == key)


@dataclass(frozen=True, slots=True)
class Report:
    key: str
    title: str
    month: date
    generated_on: date
    sections: tuple[Section, ...]

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.key == key)
