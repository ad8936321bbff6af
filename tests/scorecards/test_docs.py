"""docs/scorecards.md lists every scorecard figure with its definitions, as the registry has them."""

from __future__ import annotations

import re
from pathlib import Path

from wealthcrm.scorecards.gaps import LINKS
from wealthcrm.scorecards.metrics import METRICS, render_markdown

DOC = Path(__file__).parents[2] / "docs" / "scorecards.md"


def test_the_metric_table_is_the_registry() -> None:
    text = DOC.read_text()
    match = re.search(r"<!-- metrics:begin[^>]*-->\n(.*)<!-- metrics:end -->", text, re.S)
    assert match, "metrics markers missing in docs/scorecards.md"
    assert match.group(1) == render_markdown(), "regenerate: wealthcrm.scorecards.metrics.render_markdown()"
    for key in METRICS:
        assert f"| `{key}` |" in match.group(1)


def test_every_definition_is_written_in_both_languages() -> None:
    for m in METRICS.values():
        assert m.en and m.zh and m.definition_en.endswith(".") and m.definition_zh.endswith("。"), m.key
        assert re.search(r"[\u4e00-\u9fff]", m.zh + m.definition_zh), m.key


def test_linked_figures_exist() -> None:
    assert {k for keys in LINKS.values() for k in keys} <= set(METRICS)
