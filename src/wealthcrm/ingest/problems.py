"""What an import reports: every problem as file, row, column and message."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One reason a file was rejected.

    ``row`` is the line number as a spreadsheet shows it: the header is row 1, the first record row 2
    (Parquet files are numbered the same way). ``row`` is None for a problem with the whole file, and
    ``column`` is None for a problem with a whole row.
    """

    file: str
    row: int | None
    column: str | None
    message: str

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f":{self.row}"
        if self.column:
            where += f" [{self.column}]"
        return f"{where}: {self.message}"


class ImportRejected(Exception):
    """The import was refused; nothing was written."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.file, p.row or 0, p.column or "", p.message))
        super().__init__(f"import rejected with {len(problems)} problem(s)")
