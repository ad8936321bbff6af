"""Docs that tests keep honest: every CLI command, setting and contract column is documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from wealthcrm.cli.introspect import iter_commands
from wealthcrm.cli.main import app
from wealthcrm.config import iter_setting_fields
from wealthcrm.ingest.contract import FILES
from wealthcrm.ingest.contract_doc import render_all

ROOT = Path(__file__).parent.parent
DOCS = ROOT / "docs"


def _between(text: str, name: str) -> str:
    match = re.search(rf"<!-- {name}:begin[^>]*-->\n(.*)<!-- {name}:end -->", text, re.S)
    assert match, f"markers for {name} missing"
    return match.group(1)


COMMANDS = [path for path, _ in iter_commands(app)]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_is_documented_with_an_example(command: str) -> None:
    cli_doc = (DOCS / "cli.md").read_text()
    assert re.search(rf"^### `wealthcrm {re.escape(command)}\b", cli_doc, re.M), (
        f"{command} not in docs/cli.md"
    )
    help_text = dict(iter_commands(app))[command].help or ""
    assert "Example:" in help_text, f"`wealthcrm {command} --help` has no example"


def test_every_setting_is_documented() -> None:
    table = _between((DOCS / "settings.md").read_text(), "settings")
    documented = re.findall(r"^\| `([a-z_.]+)` \|", table, re.M)
    assert documented == [name for name, _, _ in iter_setting_fields()]


def test_contract_doc_is_the_contract() -> None:
    text = (DOCS / "data-contract.md").read_text()
    assert _between(text, "contract") == render_all(), "regenerate with `wealthcrm contract --markdown`"
    for spec in FILES:
        section = text.split(f"### `{spec.name}`", 1)[1].split("### ", 1)[0]
        for column in spec.columns:
            assert f"| `{column.name}` |" in section, f"{spec.name}.{column.name} undocumented"


def test_readme_test_command_is_what_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    command = ci.strip().splitlines()[-1]
    assert command in readme
    assert "wealthcrm demo" in readme


def test_readme_maps_every_package() -> None:
    readme = (ROOT / "README.md").read_text()
    src = ROOT / "src" / "wealthcrm"
    for package in sorted(p.name for p in src.iterdir() if (p / "__init__.py").exists()):
        if package == "migrations":
            continue
        assert f"src/wealthcrm/{package}/" in readme, f"README's map lacks {package}/"


def test_every_churn_feature_is_documented() -> None:
    from wealthcrm.analytics.features import FEATURES

    table = _between((DOCS / "analytics.md").read_text(), "features")
    documented = re.findall(r"^\| `([a-z0-9_]+)` \| (.*) \|$", table, re.M)
    assert documented == list(FEATURES.items())
