"""The message catalogs: every string the web layer marks has a Chinese translation."""

from __future__ import annotations

import string
from pathlib import Path

from babel.messages.extract import extract_from_dir

from wealthcrm.web.i18n import LOCALE_DIR, catalog_files, choose_locale, load_translators

WEB = Path(LOCALE_DIR).parent
#: packages outside web whose texts are in the catalogs too: the survey report (also written by the CLI)
TRANSLATED = [WEB, WEB.parent / "surveys"]


def marked_messages() -> set[str]:
    """Every ``_("…")`` in the templates and ``_("…")`` / ``N_("…")`` in the web package's Python."""
    found = [
        entry
        for folder in TRANSLATED
        for entry in extract_from_dir(
            str(folder),
            method_map=[("**.py", "python"), ("**/templates/**.html", "jinja2.ext:babel_extract")],
            keywords={"_": None, "N_": None},
        )
    ]
    return {message for _file, _line, message, _comments, _context in found if isinstance(message, str)}


def test_every_marked_message_is_translated_to_chinese_and_listed_in_english() -> None:
    marked = marked_messages()
    assert len(marked) > 50
    zh = load_translators()["zh_CN"]
    missing = sorted(m for m in marked if m not in zh.messages)
    assert missing == [], "add these to a catalog in locale/zh_CN/LC_MESSAGES/"
    unused = sorted(set(zh.messages) - marked)
    assert unused == [], "remove these from the catalogs"
    en_ids = {
        line[len('msgid "') : -1]
        for path in catalog_files("en")
        for line in path.read_text().splitlines()
        if line.startswith("msgid ")
    }
    assert marked <= en_ids
    # each area's file is its own: the same msgid in two zh_CN files would make the merge order matter
    seen: dict[str, str] = {}
    for path in catalog_files("zh_CN"):
        for line in path.read_text().splitlines():
            if line.startswith('msgid "') and line != 'msgid ""':
                assert line not in seen, f"{line} is in both {seen[line]} and {path.name}"
                seen[line] = path.name


def test_placeholders_survive_translation() -> None:
    zh = load_translators()["zh_CN"]
    for msgid, msgstr in zh.messages.items():
        assert sorted(_fields(msgid)) == sorted(_fields(msgstr)), msgid


def _fields(text: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(text) if name]


def test_translators_fall_back_to_english() -> None:
    translators = load_translators()
    assert translators["zh_CN"]("Sunflower") == "金葵花"
    assert translators["en"]("Sunflower") == "Sunflower"
    assert translators["zh_CN"]("not in the catalog") == "not in the catalog"
    assert (translators["zh_CN"].html_lang, translators["en"].html_lang) == ("zh-CN", "en")


def test_choose_locale() -> None:
    assert choose_locale("en", "zh_CN") == "en"
    assert choose_locale(None, "zh_CN") == "zh_CN"
    assert choose_locale("de", "en") == "en"
