"""Translations: the Babel message catalogs (zh_CN, en) are read once at start-up, looked up per request.

The ``.po`` files are read with :func:`babel.messages.pofile.read_po`, so installing needs no compile
step; msgids are the English text, so a missing translation shows English rather than a key. Each
locale's ``LC_MESSAGES`` holds one catalog per area of the app (``messages.po`` for the shell and
the workbench, ``audit.po``, ``team.po``…); they are merged, so areas never edit each other's file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from babel.messages.pofile import read_po

Locale = Literal["zh_CN", "en"]
LOCALES: tuple[Locale, ...] = ("zh_CN", "en")
LOCALE_DIR = Path(__file__).parent / "locale"
LANG_COOKIE = "lang"


def N_(message: str) -> str:
    """Marks a string for extraction without translating it (translated where it is shown)."""
    return message


ROLE_LABELS = {
    "rm": N_("Relationship manager"),
    "team_lead": N_("Team lead"),
    "branch_manager": N_("Branch manager"),
    "service": N_("Service staff"),
    "analyst": N_("Analyst"),
    "auditor": N_("Compliance"),
    "admin": N_("Administrator"),
}


@dataclass(frozen=True, slots=True)
class Translator:
    """The messages of one locale; calling it translates (``_("Log in")``)."""

    locale: Locale
    messages: Mapping[str, str] = field(default_factory=dict)

    def __call__(self, message: str) -> str:
        return self.messages.get(message) or message

    @property
    def html_lang(self) -> str:
        """The value of ``<html lang>``: BCP 47 (zh-CN), not the POSIX form (zh_CN)."""
        return self.locale.replace("_", "-")


def read_catalog(path: Path, locale: Locale) -> Translator:
    """One ``messages.po`` as a translator; fuzzy and empty entries fall back to the msgid."""
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    messages = {
        str(m.id): str(m.string)
        for m in catalog
        if m.id and isinstance(m.id, str) and isinstance(m.string, str) and m.string and not m.fuzzy
    }
    return Translator(locale, messages)


def catalog_files(locale: Locale, directory: Path = LOCALE_DIR) -> list[Path]:
    """The ``.po`` files of one locale, in name order."""
    return sorted((directory / locale / "LC_MESSAGES").glob("*.po"))


def load_translators(directory: Path = LOCALE_DIR) -> dict[Locale, Translator]:
    """Every supported locale's translator, merged from ``<directory>/<locale>/LC_MESSAGES/*.po``."""
    translators: dict[Locale, Translator] = {}
    for loc in LOCALES:
        messages: dict[str, str] = {}
        for path in catalog_files(loc, directory):
            messages.update(read_catalog(path, loc).messages)
        translators[loc] = Translator(loc, messages)
    return translators


def choose_locale(requested: str | None, default: Locale) -> Locale:
    """The ``lang`` cookie's locale when it names a supported one, else the installation's default."""
    if requested in LOCALES:
        return requested
    return default
