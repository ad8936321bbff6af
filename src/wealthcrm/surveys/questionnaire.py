"""Questionnaires as YAML files: dimensions of Likert items, reverse keying, outcomes, profile items.

A questionnaire is validated twice: pydantic checks the shape and types, then :func:`_cross_check`
checks what refers to what (an item in two dimensions, a reverse-keyed item that is not in its
dimension, an outcome item that is not a Likert item…). Every problem carries its YAML path
(``dimensions[0].reverse[1]``) and, when the text came from a file, its line number.

The minimum::

    id: bfi
    scale: {min: 1, max: 6}
    dimensions:
      - id: agreeableness
        items: [A1, A2, A3, A4, A5]
        reverse: [A1]

Items named in ``dimensions`` (and in ``outcomes.satisfaction`` / ``outcomes.loyalty``) need no
declaration: they are Likert items on the questionnaire's ``scale``; ``outcomes.nps`` is a 0–10 item.
Declare an item under ``items`` to give it texts in zh and en, another scale, or another type
(``single``, ``multiple`` choice with ``options``; ``text``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from wealthcrm.errors import Invalid

Ident = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.\-]{1,40}$")]
ItemType = Literal["likert", "nps", "single", "multiple", "text"]
NPS_SCALE = (0, 10)
DEFAULT_ID = "branch_default"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LocalText(_Strict):
    """A text in Simplified Chinese and English."""

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class Scale(_Strict):
    min: int
    max: int
    #: one label per point, lowest first (e.g. 非常不同意 … 非常同意)
    labels: dict[Literal["zh", "en"], list[str]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _ordered(self) -> Scale:
        if self.max <= self.min:
            raise ValueError(f"max ({self.max}) must be greater than min ({self.min})")
        points = self.max - self.min + 1
        for lang, labels in self.labels.items():
            if len(labels) != points:
                raise ValueError(f"labels.{lang}: {len(labels)} labels for a {points}-point scale")
        return self


class Option(_Strict):
    code: int
    label: LocalText


class Item(_Strict):
    id: Ident
    type: ItemType = "likert"
    text: LocalText | None = None
    #: a Likert item's own scale; default: the questionnaire's
    scale: Scale | None = None
    #: a choice item's answers (the stored score is the code)
    options: list[Option] = Field(default_factory=list)


class Dimension(_Strict):
    id: Ident
    name: LocalText | None = None
    #: a family of dimensions (e.g. ``servqual``); SERVQUAL gaps are reported per family too
    family: str | None = None
    items: list[Ident] = Field(min_length=1)
    reverse: list[Ident] = Field(default_factory=list)
    #: perception item → its expectation item (SERVQUAL gap = perception − expectation)
    expectations: dict[Ident, Ident] = Field(default_factory=dict)


class Outcomes(_Strict):
    #: overall satisfaction item(s); their mean is the dependent variable of IPA and key drivers
    satisfaction: list[Ident] = Field(default_factory=list)
    #: loyalty intentions (stay, add assets…), the latent outcome of the structural model
    loyalty: list[Ident] = Field(default_factory=list)
    #: the Net Promoter item (0–10)
    nps: Ident | None = None


class Questionnaire(_Strict):
    id: Ident
    version: int = 1
    title: LocalText | None = None
    #: the Likert scale of every item that does not declare its own
    scale: Scale
    dimensions: list[Dimension] = Field(min_length=1)
    items: list[Item] = Field(default_factory=list)
    outcomes: Outcomes = Field(default_factory=Outcomes)
    #: items describing the respondent (age band, tenure…), usable as groups
    profile: list[Ident] = Field(default_factory=list)

    # -- derived views --------------------------------------------------------------------------
    def item_map(self) -> dict[str, Item]:
        """Every item, the implicit ones (dimension, outcome and expectation items) included."""
        return dict(self._item_map)

    @cached_property
    def _item_map(self) -> dict[str, Item]:
        # made once per (frozen) questionnaire: scoring a response asks for it per answer
        out = {item.id: item for item in self.items}
        implicit = [i for d in self.dimensions for i in (*d.items, *d.expectations.values())]
        implicit += [*self.outcomes.satisfaction, *self.outcomes.loyalty]
        for item_id in implicit:
            out.setdefault(item_id, Item(id=item_id))
        if self.outcomes.nps is not None:
            out.setdefault(self.outcomes.nps, Item(id=self.outcomes.nps, type="nps"))
        return out

    def scale_of(self, item_id: str) -> tuple[int, int]:
        item = self._item_map[item_id]
        if item.type == "nps":
            return NPS_SCALE
        scale = item.scale or self.scale
        return scale.min, scale.max

    def dimension(self, dim_id: str) -> Dimension:
        return next(d for d in self.dimensions if d.id == dim_id)

    def reversed_items(self) -> set[str]:
        return {i for d in self.dimensions for i in d.reverse}

    def scored_items(self) -> list[str]:
        """Items with a numeric score, in questionnaire order (dimensions, expectations, outcomes)."""
        ids = [i for d in self.dimensions for i in d.items]
        ids += [e for d in self.dimensions for e in d.expectations.values()]
        ids += [*self.outcomes.satisfaction, *self.outcomes.loyalty]
        if self.outcomes.nps is not None:
            ids.append(self.outcomes.nps)
        ids += [i.id for i in self.items if i.type != "text"]
        return list(dict.fromkeys(ids))


@dataclass(frozen=True)
class Problem:
    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line is not None else ""
        return f"{where}{self.path or '(top)'}: {self.message}"


class QuestionnaireError(Invalid):
    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"{source}: {len(problems)} problem(s) in the questionnaire\n{lines}")


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _cross_check(q: Questionnaire) -> list[tuple[tuple[int | str, ...], str]]:
    """What pydantic cannot see: references between items, dimensions and outcomes."""
    problems: list[tuple[tuple[int | str, ...], str]] = []
    declared: dict[str, int] = {}
    for n, item in enumerate(q.items):
        if item.id in declared:
            problems.append((("items", n, "id"), f"item {item.id!r} is declared twice"))
        declared.setdefault(item.id, n)
        if item.type in ("single", "multiple") and not item.options:
            problems.append((("items", n, "options"), f"a {item.type}-choice item needs options"))
        if item.type not in ("single", "multiple") and item.options:
            problems.append((("items", n, "options"), f"a {item.type} item takes no options"))
        if item.scale is not None and item.type != "likert":
            problems.append((("items", n, "scale"), f"only Likert items have a scale, not {item.type}"))
    types = {item.id: item.type for item in q.items}

    def need(loc: tuple[int | str, ...], item_id: str, allowed: tuple[str, ...] = ("likert",)) -> None:
        kind = types.get(item_id, allowed[0])
        if kind not in allowed:
            problems.append((loc, f"{item_id!r} is a {kind} item; expected {' or '.join(allowed)}"))

    owner: dict[str, str] = {}
    dim_ids: set[str] = set()
    for n, dim in enumerate(q.dimensions):
        if dim.id in dim_ids:
            problems.append((("dimensions", n, "id"), f"dimension {dim.id!r} is declared twice"))
        dim_ids.add(dim.id)
        for m, item_id in enumerate(dim.items):
            loc: tuple[int | str, ...] = ("dimensions", n, "items", m)
            if item_id in owner:
                problems.append((loc, f"{item_id!r} is already an item of dimension {owner[item_id]!r}"))
            owner.setdefault(item_id, dim.id)
            need(loc, item_id)
        for m, item_id in enumerate(dim.reverse):
            if item_id not in dim.items:
                problems.append(
                    (("dimensions", n, "reverse", m), f"{item_id!r} is not one of the dimension's items")
                )
        for item_id, expect_id in dim.expectations.items():
            loc = ("dimensions", n, "expectations", item_id)
            if item_id not in dim.items:
                problems.append((loc, f"{item_id!r} is not one of the dimension's items"))
            need(loc, expect_id)
    for n, dim in enumerate(q.dimensions):
        for item_id, expect_id in dim.expectations.items():
            if expect_id in owner:
                problems.append(
                    (
                        ("dimensions", n, "expectations", item_id),
                        f"{expect_id!r} is a perception item of {owner[expect_id]!r}, not an expectation",
                    )
                )
    for key in ("satisfaction", "loyalty"):
        for m, item_id in enumerate(getattr(q.outcomes, key)):
            loc = ("outcomes", key, m)
            if item_id in owner:
                problems.append((loc, f"{item_id!r} is an item of dimension {owner[item_id]!r}"))
            need(loc, item_id)
    if q.outcomes.nps is not None:
        if q.outcomes.nps in owner:
            problems.append(
                (("outcomes", "nps"), f"{q.outcomes.nps!r} is an item of dimension {owner[q.outcomes.nps]!r}")
            )
        need(("outcomes", "nps"), q.outcomes.nps, ("nps", "likert"))
        if types.get(q.outcomes.nps) == "likert":
            problems.append((("outcomes", "nps"), f"{q.outcomes.nps!r} must be declared with type: nps"))
    for m, item_id in enumerate(q.profile):
        if item_id not in types:
            problems.append((("profile", m), f"{item_id!r} is not declared under items"))
        elif types[item_id] not in ("single", "multiple", "likert"):
            problems.append((("profile", m), f"{item_id!r} is a {types[item_id]} item; use a choice item"))
    return problems


def _line_finder(text: str) -> Any:
    """A function from a YAML path (tuple) to its 1-based line, or None (compose keeps the marks)."""
    import yaml  # PyYAML; imported here so the CLI starts fast

    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        root = None

    def find(loc: tuple[int | str, ...]) -> int | None:
        node, line = root, None
        for part in loc:
            if node is None:
                break
            line = node.start_mark.line + 1
            if isinstance(node, yaml.MappingNode):
                node = next((v for k, v in node.value if k.value == str(part)), None)
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
                node = node.value[part]
            else:
                node = None
        return node.start_mark.line + 1 if node is not None else line

    return find


def parse_questionnaire(text: str, *, source: str = "<questionnaire>") -> Questionnaire:
    """A validated questionnaire from YAML text; raises :class:`QuestionnaireError` listing every problem."""
    import yaml

    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise QuestionnaireError(source, [Problem("", f"not valid YAML: {exc}", line)]) from None
    if not isinstance(raw, dict):
        raise QuestionnaireError(source, [Problem("", "the file must hold a mapping (id:, scale:, …)")])
    find = _line_finder(text)
    try:
        q = Questionnaire.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
            msg = err["msg"].removeprefix("Value error, ")
            problems.append(Problem(_path(loc), msg, find(loc)))
        raise QuestionnaireError(source, problems) from None
    cross = _cross_check(q)
    if cross:
        raise QuestionnaireError(source, [Problem(_path(loc), msg, find(loc)) for loc, msg in cross])
    return q


def load_questionnaire(path: str | Path) -> Questionnaire:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise Invalid(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise Invalid(f"{path}: cannot read ({exc})") from None
    return parse_questionnaire(text, source=str(path))


def shipped_questionnaire(name: str = DEFAULT_ID) -> Questionnaire:
    """A questionnaire that ships with wealthcrm (``branch_default``)."""
    res = resources.files("wealthcrm.surveys").joinpath("questionnaires", f"{name}.yaml")
    return parse_questionnaire(res.read_text(encoding="utf-8"), source=f"{name}.yaml")
