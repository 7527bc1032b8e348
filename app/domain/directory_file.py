"""Reading the directory import file: UTF-8 CSV in the format of shared/data/organisations-demo.csv.

The file is judged whole: every line's problems are collected, so an operator can fix them in
one go. Pure: text in, organisations or problems out.
"""

import csv
from dataclasses import dataclass
from io import StringIO

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
OPTIONAL_COLUMNS = ("active",)


@dataclass(frozen=True, slots=True)
class LineProblem:
    """What is wrong on one line of the file (line 1 is the header)."""

    line: int
    column: str
    rule: str
    message: str


def read_directory_file(text: str) -> tuple[list[tuple[int, Organisation]], list[LineProblem]]:
    """Parses the file into (line number, organisation) pairs, or the problems it has."""
    reader = csv.DictReader(StringIO(text.removeprefix("\ufeff"), newline=""))
    header = reader.fieldnames or []
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
        line = reader.line_num
        if None in row:
            problems.append(LineProblem(line, "", "too_many_fields", "The line has extra fields."))
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


def _fields(row: dict[str, str]) -> dict[str, object]:
    # An empty cell means "not given": the model's default applies.
    fields: dict[str, object] = {k: v for k, v in row.items() if v and v.strip()}
    if "accepts" in fields:
        fields["accepts"] = [part for part in str(fields["accepts"]).split(";") if part.strip()]
    return fields
