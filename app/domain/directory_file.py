"""Reading the directory import file: UTF-8 CSV in the format of shared/data/organisations-demo.csv.

The file is judged whole: every line's problems are collected, so an operator can fix them in
one go. Pure: text in, organisations or problems out.
"""

import csv
from dataclasses import dataclass

from pydantic import ValidationError

from app.domain.organisation import Organisation, OrganisationKind

__all__ = ["COLUMNS", "LineProblem", "read_directory_file"]

COLUMNS = (
    "gln",
    "kind",
    "name",
    "department",
    "identifier",
    "identifier_code",
    "municipality_code",
    "accepts",
    "delivery",
    "street",
    "postcode",
    "district",
    "phone",
)
# A push receiver's columns are optional, so files of inbox-only directories stay as they
# are. An empty `signing_secret` cell keeps the stored secret (it is write-only, like the API's).
OPTIONAL_COLUMNS = ("unit", "active", "endpoint_url", "signing_secret")


@dataclass(frozen=True, slots=True)
class LineProblem:
    """What is wrong on one line of the file (line 1 is the header)."""

    line: int
    column: str
    rule: str
    message: str


def read_directory_file(text: str) -> tuple[list[tuple[int, Organisation]], list[LineProblem]]:
    """Parses the file into (line number, organisation) pairs, or the problems it has."""
    lines = _Lines(text.removeprefix("\ufeff"))
    reader = csv.DictReader(lines)
    header = reader.fieldnames or []
    lines.end_record()
    problems = [
        LineProblem(1, column, "column_missing", f"The header lacks the column '{column}'.")
        for column in COLUMNS
        if column not in header
    ] + [
        LineProblem(1, column, "column_unknown", f"The column '{column}' is not known.")
        for column in header
        if column not in COLUMNS + OPTIONAL_COLUMNS
    ]
    if problems:
        return [], problems

    organisations: list[tuple[int, Organisation]] = []
    first_line_of_gln: dict[str, int] = {}
    kommune_line_of_code: dict[str, int] = {}
    for row in reader:
        line = lines.record_start
        lines.end_record()
        if None in row:
            problems.append(LineProblem(line, "", "too_many_fields", "The line has extra fields."))
            continue
        if None in row.values():
            # A cut-off line would otherwise blank the address of an existing entry.
            message = "The line has fewer fields than the header."
            problems.append(LineProblem(line, "", "too_few_fields", message))
            continue
        try:
            organisation = Organisation.model_validate(_fields(row))
        except ValidationError as exc:
            problems.extend(
                LineProblem(line, ".".join(map(str, e["loc"])), e["type"], e["msg"])
                for e in exc.errors(include_url=False)
            )
            continue
        if (earlier := first_line_of_gln.setdefault(organisation.gln, line)) != line:
            problems.append(
                LineProblem(line, "gln", "gln_repeated", f"GLN already on line {earlier}.")
            )
            continue
        if organisation.kind == OrganisationKind.KOMMUNE and organisation.active:
            code = organisation.municipality_code
            assert code is not None  # a kommune without one does not validate
            if (earlier := kommune_line_of_code.setdefault(code, line)) != line:
                problems.append(
                    LineProblem(
                        line,
                        "municipality_code",
                        "kommune_repeated",
                        f"Line {earlier} already registers the active kommune for {code}.",
                    )
                )
                continue
        organisations.append((line, organisation))
    return ([] if problems else organisations), problems


class _Lines:
    """Feeds the CSV reader physical lines and notes where each record starts.

    A quoted field may span lines, and blank lines between records are skipped, so the
    reader's own `line_num` (the record's last line) is not the line to report.
    """

    def __init__(self, text: str) -> None:
        self._lines = enumerate(text.splitlines(keepends=True), start=1)
        self._in_record = False
        self.record_start = 0

    def __iter__(self) -> "_Lines":
        return self

    def __next__(self) -> str:
        for number, line in self._lines:
            if not self._in_record:
                if not line.strip():
                    continue
                self.record_start, self._in_record = number, True
            return line
        raise StopIteration

    def end_record(self) -> None:
        """Marks that the reader has finished a record."""
        self._in_record = False


def _fields(row: dict[str, str]) -> dict[str, object]:
    # An empty cell means "not given": the model's default applies.
    fields: dict[str, object] = {k: v.strip() for k, v in row.items() if v.strip()}
    if "accepts" in fields:
        parts = (part.strip() for part in str(fields["accepts"]).split(";"))
        fields["accepts"] = [part for part in parts if part]
    return fields
