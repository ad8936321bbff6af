"""Questionnaire files: the shipped one matches the simulator; every problem is named with its path."""

from __future__ import annotations

import pytest

from wealthcrm.simulate import survey as sim
from wealthcrm.surveys.questionnaire import (
    QuestionnaireError,
    parse_questionnaire,
    shipped_questionnaire,
)

MINIMAL = """\
id: bfi
scale: {min: 1, max: 6}
dimensions:
  - id: agreeableness
    items: [A1, A2, A3, A4, A5]
    reverse: [A1]
"""


def test_the_minimum_from_the_issue_parses() -> None:
    q = parse_questionnaire(MINIMAL)
    assert q.id == "bfi"
    assert q.reversed_items() == {"A1"}
    assert q.scale_of("A3") == (1, 6)
    assert q.scored_items() == ["A1", "A2", "A3", "A4", "A5"]


def test_shipped_questionnaire_uses_the_simulators_item_ids() -> None:
    q = shipped_questionnaire()
    assert q.id == sim.QUESTIONNAIRE_ID
    for dim, items in sim.DIMENSIONS.items():
        if dim in ("satisfaction", "loyalty", "nps"):
            continue
        assert tuple(q.dimension(dim).items) == items
    assert [d.id for d in q.dimensions if d.family == "servqual"] == list(sim.SERVQUAL)
    assert q.outcomes.satisfaction == ["SAT1"]
    assert q.outcomes.loyalty == ["LOY1", "LOY2"]
    assert q.outcomes.nps == sim.NPS_ITEM
    assert (q.scale.min, q.scale.max) == (sim.LIKERT_MIN, sim.LIKERT_MAX)
    assert q.scale_of("NPS") == (sim.NPS_MIN, sim.NPS_MAX)
    assert set(sim.ITEM_IDS) <= set(q.item_map())


def test_every_shipped_item_has_texts_in_both_languages() -> None:
    q = shipped_questionnaire()
    for item in q.item_map().values():
        assert item.text is not None, item.id
        assert item.text.zh and item.text.en
    assert q.scale.labels["zh"][0] == "非常不同意"
    assert len(q.scale.labels["en"]) == 7


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            MINIMAL.replace("reverse: [A1]", "reverse: [A9]"),
            "line 6: dimensions[0].reverse[0]: 'A9' is not one",
        ),
        (
            MINIMAL + "  - id: other\n    items: [A2, B1]\n",
            "line 8: dimensions[1].items[0]: 'A2' is already an item of dimension 'agreeableness'",
        ),
        (MINIMAL.replace("max: 6", "max: 1"), "line 2: scale: max (1) must be greater than min (1)"),
        (MINIMAL + "    colour: red\n", "line 7: dimensions[0].colour: Extra inputs are not permitted"),
        (MINIMAL.replace("id: bfi", "id: 'no spaces allowed'"), "line 1: id: String should match pattern"),
        (
            MINIMAL + "items:\n  - id: P1\n    type: single\n",
            "line 8: items[0].options: a single-choice item needs options",
        ),
        (MINIMAL + "outcomes:\n  nps: A2\n", "line 8: outcomes.nps: 'A2' is an item of dimension"),
        (MINIMAL + "outcomes:\n  satisfaction: [A2]\n", "line 8: outcomes.satisfaction[0]: 'A2' is an item"),
        (MINIMAL + "profile: [AGE]\n", "line 7: profile[0]: 'AGE' is not declared under items"),
        ("id: [unclosed\n", "not valid YAML"),
        ("- a list\n", "the file must hold a mapping"),
    ],
)
def test_problems_name_their_yaml_path_and_line(text: str, expected: str) -> None:
    with pytest.raises(QuestionnaireError) as caught:
        parse_questionnaire(text, source="q.yaml")
    assert expected in str(caught.value)
    assert str(caught.value).startswith("q.yaml: ")
