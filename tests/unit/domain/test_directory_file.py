"""Reading the directory import file: every bad line is reported, and a bad file yields nothing."""

import csv
import io
from typing import Any

import pytest

from app.domain.directory_file import LineProblem, read_directory_file
from app.domain.organisation import DeliveryChannel, MessageFormat
from tests.factories import (
    DEMO_GLNS,
    HJALLESE_GP,
    ISHOEJ_KOMMUNE,
    ODENSE_HOSPITAL,
    ODENSE_KOMMUNE,
    PUSH_ENDPOINT,
    SIGNING_SECRET,
    demo_directory_text,
    gp_fields,
    hospital_fields,
    organisation_fields,
    push_fields,
)

# The header of the shipped demo file, spelled out: it is the file format.
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


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(value)
    return str(value)


def directory_file(*rows: dict[str, Any], columns: tuple[str, ...] = COLUMNS) -> str:
    """A directory file with a header of `columns` and one line per row (None: empty cell)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(column)) for column in columns])
    return buffer.getvalue()


def where(problems: list[LineProblem]) -> list[tuple[int, str, str]]:
    """The (line, column, rule) of each problem."""
    return [(p.line, p.column, p.rule) for p in problems]


class TestReadDirectoryFile:
    def test_reads_the_shipped_demo_file(self) -> None:
        organisations, problems = read_directory_file(demo_directory_text())

        assert problems == []
        assert [line for line, _ in organisations] == list(range(2, 13))
        assert [org.gln for _, org in organisations] == DEMO_GLNS

    def test_keeps_the_leading_zeros_of_a_ydernummer(self) -> None:
        organisations, _ = read_directory_file(demo_directory_text())

        hjallese = dict((org.gln, org) for _, org in organisations)[HJALLESE_GP]
        assert hjallese.identifier == "024015"

    def test_tolerates_a_byte_order_mark(self) -> None:
        organisations, problems = read_directory_file("\ufeff" + demo_directory_text())

        assert problems == []
        assert [org.gln for _, org in organisations] == DEMO_GLNS

    def test_reads_windows_line_endings(self) -> None:
        text = directory_file(organisation_fields(), hospital_fields()).replace("\n", "\r\n")

        organisations, problems = read_directory_file(text)

        assert problems == []
        assert [(line, org.gln) for line, org in organisations] == [
            (2, ODENSE_KOMMUNE),
            (3, ODENSE_HOSPITAL),
        ]
        assert organisations[1][1].phone == "+4566131372"

    def test_reads_a_header_only_file_as_an_empty_directory(self) -> None:
        assert read_directory_file(directory_file()) == ([], [])

    def test_reports_a_missing_column_on_line_1(self) -> None:
        without_phone = tuple(c for c in COLUMNS if c != "phone")
        text = directory_file(organisation_fields(), columns=without_phone)

        organisations, problems = read_directory_file(text)

        assert organisations == []
        assert where(problems) == [(1, "phone", "column_missing")]

    def test_reports_an_unknown_column_on_line_1(self) -> None:
        text = directory_file(organisation_fields(fax="66131373"), columns=(*COLUMNS, "fax"))

        organisations, problems = read_directory_file(text)

        assert organisations == []
        assert where(problems) == [(1, "fax", "column_unknown")]

    def test_reports_every_column_missing_from_an_empty_file(self) -> None:
        organisations, problems = read_directory_file("")

        assert organisations == []
        assert where(problems) == [(1, column, "column_missing") for column in COLUMNS]

    def test_reports_every_bad_line_with_its_column_and_rule(self) -> None:
        text = directory_file(
            hospital_fields(),  # line 2: fine
            organisation_fields(gln="5790000121442"),  # line 3
            gp_fields(gln="5790009902027", identifier="037974"),  # line 4: fine
            organisation_fields(gln=ISHOEJ_KOMMUNE, identifier="183"),  # line 5
            gp_fields(identifier="abc", name="x" * 36),  # line 6: two problems
            gp_fields(gln="5790000120314", accepts=[]),  # line 7
        )

        organisations, problems = read_directory_file(text)

        assert organisations == []
        assert where(problems) == [
            (3, "gln", "gln_check_digit"),
            (5, "identifier", "kommunenummer_mismatch"),
            (6, "name", "string_too_long"),
            (6, "identifier", "ydernummer_format"),
            (7, "accepts", "missing"),
        ]

    def test_explains_each_problem_in_words(self) -> None:
        _, problems = read_directory_file(directory_file(organisation_fields(identifier="183")))

        assert problems[0].message == "A kommune's kommunenummer must equal its municipality_code."

    def test_reports_a_repeated_gln_on_the_later_line(self) -> None:
        text = directory_file(
            hospital_fields(),
            organisation_fields(),
            hospital_fields(name="Odense Universitetshospital 2"),
        )

        organisations, problems = read_directory_file(text)

        assert organisations == []
        assert where(problems) == [(4, "gln", "gln_repeated")]
        assert "line 2" in problems[0].message

    def test_reports_a_second_active_kommune_for_the_same_code(self) -> None:
        text = directory_file(
            organisation_fields(),
            organisation_fields(gln=ISHOEJ_KOMMUNE, name="Odense Kommune (ny)"),
        )

        organisations, problems = read_directory_file(text)

        assert organisations == []
        assert where(problems) == [(3, "municipality_code", "kommune_repeated")]
        assert "Line 2" in problems[0].message

    def test_allows_an_inactive_kommune_beside_the_active_one(self) -> None:
        text = directory_file(
            organisation_fields(active="false"),
            organisation_fields(gln=ISHOEJ_KOMMUNE, name="Odense Kommune (ny)"),
            columns=(*COLUMNS, "active"),
        )

        organisations, problems = read_directory_file(text)

        assert problems == []
        assert [(org.gln, org.active) for _, org in organisations] == [
            (ODENSE_KOMMUNE, False),
            (ISHOEJ_KOMMUNE, True),
        ]

    def test_reads_empty_optional_cells_as_not_given(self) -> None:
        text = directory_file(
            gp_fields(department=None, delivery=None, street=None, postcode=None, phone=" ")
        )

        organisations, problems = read_directory_file(text)

        assert problems == []
        (_, gp) = organisations[0]
        assert (gp.department, gp.street, gp.postcode, gp.phone) == (None, None, None, None)
        assert gp.district == "Odense M"
        assert gp.delivery == DeliveryChannel.INBOX

    def test_reads_an_empty_required_cell_as_missing(self) -> None:
        organisations, problems = read_directory_file(directory_file(organisation_fields(name="")))

        assert organisations == []
        assert where(problems) == [(2, "name", "missing")]

    @pytest.mark.parametrize(
        ("cell", "formats"),
        [
            ("GGOP", [MessageFormat.GGOP]),
            ("XDIS91", [MessageFormat.XDIS91]),
            ("XDIS91;GGOP", [MessageFormat.GGOP, MessageFormat.XDIS91]),
            ("GGOP;;XDIS91;", [MessageFormat.GGOP, MessageFormat.XDIS91]),
        ],
    )
    def test_splits_accepts_on_semicolons(self, cell: str, formats: list[MessageFormat]) -> None:
        organisations, problems = read_directory_file(
            directory_file(organisation_fields(accepts=cell))
        )

        assert problems == []
        assert organisations[0][1].accepts == formats

    def test_reports_an_unknown_format_in_accepts(self) -> None:
        _, problems = read_directory_file(directory_file(organisation_fields(accepts="GGOP;EDI")))

        assert where(problems) == [(2, "accepts.1", "enum")]

    def test_tolerates_spaces_after_the_accepts_separator(self) -> None:
        organisations, problems = read_directory_file(
            directory_file(organisation_fields(accepts="GGOP; XDIS91"))
        )

        assert problems == []
        assert organisations[0][1].accepts == [MessageFormat.GGOP, MessageFormat.XDIS91]

    @pytest.mark.parametrize(("cell", "active"), [("false", False), ("true", True), ("", True)])
    def test_reads_the_optional_active_column(self, cell: str, active: bool) -> None:
        text = directory_file(organisation_fields(active=cell), columns=(*COLUMNS, "active"))

        organisations, problems = read_directory_file(text)

        assert problems == []
        assert organisations[0][1].active is active

    def test_reports_an_active_cell_that_is_not_a_boolean(self) -> None:
        text = directory_file(organisation_fields(active="nej"), columns=(*COLUMNS, "active"))

        organisations, problems = read_directory_file(text)

        assert organisations == []
        assert where(problems) == [(2, "active", "bool_parsing")]

    def test_an_organisation_is_active_without_the_active_column(self) -> None:
        organisations, _ = read_directory_file(directory_file(organisation_fields()))

        assert organisations[0][1].active is True

    def test_reports_a_line_with_too_many_fields(self) -> None:
        text = directory_file(hospital_fields(), organisation_fields())
        lines = text.splitlines()
        lines[2] += ",extra"

        organisations, problems = read_directory_file("\n".join(lines) + "\n")

        assert organisations == []
        assert where(problems) == [(3, "", "too_many_fields")]

    def test_reports_a_line_with_too_few_fields(self) -> None:
        text = directory_file(organisation_fields())
        truncated = text.rsplit(",", 3)[0] + "\n"  # drops postcode, district and phone

        organisations, problems = read_directory_file(truncated)

        assert organisations == []
        assert [p.line for p in problems] == [2]

    def test_counts_lines_past_a_blank_line(self) -> None:
        lines = directory_file(hospital_fields(), organisation_fields(gln="579000012144")).split(
            "\n"
        )
        text = "\n".join([lines[0], lines[1], "", lines[2]]) + "\n"

        _, problems = read_directory_file(text)

        assert where(problems) == [(4, "gln", "gln_length")]

    def test_reports_a_record_with_a_quoted_line_break_at_its_first_line(self) -> None:
        text = directory_file(
            hospital_fields(department="Ortopædkirurgisk\nAfdeling", gln="5790001354146")
        )

        _, problems = read_directory_file(text)

        assert where(problems) == [(2, "gln", "gln_check_digit")]


PUSH_COLUMNS = (*COLUMNS, "endpoint_url", "signing_secret")


class TestReadDirectoryFilePushColumns:
    def test_reads_a_push_organisation_with_its_endpoint_and_secret(self) -> None:
        text = directory_file(push_fields(), columns=PUSH_COLUMNS)

        organisations, problems = read_directory_file(text)

        assert problems == []
        [(_, organisation)] = organisations
        assert organisation.delivery == DeliveryChannel.PUSH
        assert str(organisation.endpoint_url) == PUSH_ENDPOINT
        assert organisation.signing_secret is not None
        assert organisation.signing_secret.get_secret_value() == SIGNING_SECRET

    def test_reads_an_empty_secret_cell_as_not_given(self) -> None:
        text = directory_file(push_fields(signing_secret=None), columns=PUSH_COLUMNS)

        [(_, organisation)], _ = read_directory_file(text)

        assert organisation.signing_secret is None

    def test_reports_a_bad_endpoint_url_at_its_line_and_column(self) -> None:
        text = directory_file(
            hospital_fields(),
            push_fields(endpoint_url="http://genoptraening.odense.dk/in"),
            columns=PUSH_COLUMNS,
        )

        organisations, problems = read_directory_file(text)

        assert organisations == []
        assert where(problems) == [(3, "endpoint_url", "endpoint_url_not_https")]

    def test_reports_push_without_an_endpoint_url(self) -> None:
        text = directory_file(push_fields(endpoint_url=None), columns=PUSH_COLUMNS)

        _, problems = read_directory_file(text)

        assert where(problems) == [(2, "endpoint_url", "push_needs_endpoint_url")]

    def test_reports_a_bad_secret_without_repeating_it(self) -> None:
        almost = SIGNING_SECRET[:-4]
        text = directory_file(push_fields(signing_secret=almost), columns=PUSH_COLUMNS)

        _, problems = read_directory_file(text)

        assert where(problems) == [(2, "signing_secret", "signing_secret_format")]
        assert almost not in problems[0].message
