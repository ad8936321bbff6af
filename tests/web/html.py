"""A tiny HTML reader for the tests (stdlib ``html.parser``): tables, texts and attributes by id."""

from __future__ import annotations

import re
from html.parser import HTMLParser

_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Node:
    def __init__(self, tag: str, attrs: dict[str, str | None], parent: Node | None) -> None:
        self.tag = tag
        self.attrs = attrs
        self.parent = parent
        self.children: list[Node | str] = []

    def text(self) -> str:
        """The text inside, whitespace collapsed."""
        parts = [c if isinstance(c, str) else c.text() for c in self.children]
        return re.sub(r"\s+", " ", " ".join(parts)).strip()

    def iter(self, tag: str | None = None) -> list[Node]:
        found: list[Node] = []
        for child in self.children:
            if isinstance(child, Node):
                if tag is None or child.tag == tag:
                    found.append(child)
                found.extend(child.iter(tag))
        return found

    def find(self, **attrs: str) -> Node | None:
        """The first element whose attributes include ``attrs`` (use ``data_testid`` for data-testid)."""
        wanted = {k.replace("_", "-"): v for k, v in attrs.items()}
        for node in self.iter():
            if all(node.attrs.get(k) == v for k, v in wanted.items()):
                return node
        return None

    def table(self) -> list[list[str]]:
        """The rows of a table (thead, tbody and tfoot) as lists of cell texts."""
        return [[cell.text() for cell in row.children if isinstance(cell, Node)] for row in self.iter("tr")]


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {}, None)
        self.current = self.root

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, dict(attrs), self.current)
        self.current.children.append(node)
        if tag not in _VOID:
            self.current = node

    def handle_endtag(self, tag: str) -> None:
        node: Node | None = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.current.children.append(data)


def parse(html: str) -> Node:
    builder = _Builder()
    builder.feed(html)
    builder.close()
    return builder.root


def by_id(html: str, element_id: str) -> Node:
    node = parse(html).find(id=element_id)
    assert node is not None, f"no element #{element_id}"
    return node
