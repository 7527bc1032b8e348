"""The directory service on both databases: import a file, save one entry, list and page."""

import base64
import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import orm
from app.domain.directory_file import COLUMNS
from app.domain.organisation import OrganisationKind
from app.errors import Conflict, FieldError, NotFound, ValidationFailed
from app.services.directory import (
    DirectoryFileRejected,
    ImportSummary,
    get_organisation,
    import_directory,
    list_organisations,
    rotate_signing_secret,
    save_organisation,
)
from tests.conftest import FROZEN_NOW
from tests.factories import (
    DEMO_GLNS,
    DEMO_KOMMUNER,
    HJALLESE_GP,
    ISHOEJ_GP,
    ISHOEJ_KOMMUNE,
    ODENSE_KOMMUNE,
    PUSH_ENDPOINT,
    SIGNING_SECRET,
    add_hospital,
    add_organisation,
    demo_directory_text,
    hospital_fields,
    make_organisation,
    push_fields,
)

LATER = FROZEN_NOW + timedelta(days=1)
FORMER_ODENSE_KOMMUNE = "5790009904618"  # not in the demo file


def add_clinic(session: Session, *, gln: str, name: str) -> orm.Organisation:
    """A private clinic (kind `other`), for name searches."""
    return add_organisation(
        session,
        gln=gln,
        kind="other",
        name=name,
        municipality_code=None,
        identifier_code="ydernummer",
        identifier=gln[-6:],
    )


def count_organisations(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(orm.Organisation)) or 0


def glns(rows: list[orm.Organisation]) -> list[str]:
    return [row.gln for row in rows]


def search(
    session: Session,
    *,
    kind: OrganisationKind | None = None,
    municipality_code: str | None = None,
    q: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[orm.Organisation], str | None]:
    return list_organisations(
        session, kind=kind, municipality_code=municipality_code, q=q, cursor=cursor, limit=limit
    )


def cursor_for(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.fixture
def demo_directory(session: Session) -> None:
    import_directory(session, demo_directory_text(), now=FROZEN_NOW)


class TestImportDirectory:
    def test_creates_every_organisation_of_a_new_directory(self, session: Session) -> None:
        summary = import_directory(session, demo_directory_text(), now=FROZEN_NOW)

        assert summary == ImportSummary(created=11, updated=0, unchanged=0)
        assert count_organisations(session) == 11

    def test_stores_each_line_as_written(self, session: Session) -> None:
        import_directory(session, demo_directory_text(), now=FROZEN_NOW)
        session.expire_all()

        gp = get_organisation(session, gln=HJALLESE_GP)
        assert (gp.kind, gp.name, gp.identifier_code, gp.identifier) == (
            "almen_praksis",
            "Lægerne i Hjallese (demo)",
            "ydernummer",
            "024015",
        )
        assert (gp.municipality_code, gp.accepts, gp.delivery) == (None, ["XDIS91"], "inbox")
        assert (gp.is_active, gp.created_at, gp.updated_at) == (True, FROZEN_NOW, FROZEN_NOW)

    def test_reimporting_the_same_file_changes_nothing(self, session: Session) -> None:
        import_directory(session, demo_directory_text(), now=FROZEN_NOW)

        summary = import_directory(session, demo_directory_text(), now=LATER)

        assert summary == ImportSummary(created=0, updated=0, unchanged=11)
        session.expire_all()
        assert {row.updated_at for row in session.scalars(select(orm.Organisation))} == {FROZEN_NOW}

    def test_updates_only_the_line_that_changed(self, session: Session) -> None:
        import_directory(session, demo_directory_text(), now=FROZEN_NOW)
        changed = demo_directory_text().replace("Flakhaven 2", "Flakhaven 4")

        summary = import_directory(session, changed, now=LATER)

        assert summary == ImportSummary(created=0, updated=1, unchanged=10)
        session.expire_all()
        odense = get_organisation(session, gln=ODENSE_KOMMUNE)
        assert (odense.street, odense.created_at, odense.updated_at) == (
            "Flakhaven 4",
            FROZEN_NOW,
            LATER,
        )
        assert get_organisation(session, gln=HJALLESE_GP).updated_at == FROZEN_NOW

    def test_adds_new_lines_to_an_existing_directory(self, session: Session) -> None:
        add_organisation(session, phone="+4566000000")

        summary = import_directory(session, demo_directory_text(), now=LATER)

        assert summary == ImportSummary(created=10, updated=1, unchanged=0)
        assert count_organisations(session) == 11

    def test_a_bad_file_imports_nothing(self, session: Session) -> None:
        lines = demo_directory_text().splitlines()
        lines[11] = lines[11].replace("5790000121526", "5790000121527")

        with pytest.raises(DirectoryFileRejected) as caught:
            import_directory(session, "\n".join(lines), now=FROZEN_NOW)

        assert [(p.line, p.column, p.rule) for p in caught.value.problems] == [
            (12, "gln", "gln_check_digit")
        ]
        assert count_organisations(session) == 0

    def test_a_bad_file_leaves_the_existing_directory_alone(self, session: Session) -> None:
        import_directory(session, demo_directory_text(), now=FROZEN_NOW)
        changed = (
            demo_directory_text().replace("Flakhaven 2", "Flakhaven 4").replace(",024015,", ",abc,")
        )

        with pytest.raises(DirectoryFileRejected):
            import_directory(session, changed, now=LATER)

        session.expire_all()
        odense = get_organisation(session, gln=ODENSE_KOMMUNE)
        assert (odense.street, odense.updated_at) == ("Flakhaven 2", FROZEN_NOW)

    def test_a_rejected_file_names_line_and_column_as_the_field(self, session: Session) -> None:
        changed = demo_directory_text().replace(",024015,", ",abc,")

        with pytest.raises(DirectoryFileRejected) as caught:
            import_directory(session, changed, now=FROZEN_NOW)

        assert [(e.field, e.rule) for e in caught.value.errors] == [
            ("line 9.identifier", "ydernummer_format")
        ]
        assert caught.value.status_code == 422

    def test_rejects_a_kommune_whose_code_has_an_active_kommune_already(
        self, session: Session
    ) -> None:
        add_organisation(session, gln=FORMER_ODENSE_KOMMUNE, name="Odense Kommune (gammel)")

        with pytest.raises(DirectoryFileRejected) as caught:
            import_directory(session, demo_directory_text(), now=FROZEN_NOW)

        assert [(p.line, p.column, p.rule) for p in caught.value.problems] == [
            (4, "municipality_code", "kommune_taken")
        ]
        assert FORMER_ODENSE_KOMMUNE in caught.value.problems[0].message
        assert count_organisations(session) == 1

    def test_an_inactive_kommune_does_not_hold_its_code(self, session: Session) -> None:
        add_organisation(session, gln=FORMER_ODENSE_KOMMUNE, active=False)

        summary = import_directory(session, demo_directory_text(), now=FROZEN_NOW)

        assert summary.created == 11

    def test_hands_a_kommune_over_to_a_new_gln_in_one_file(self, session: Session) -> None:
        add_organisation(session, gln=FORMER_ODENSE_KOMMUNE, name="Odense Kommune (gammel)")
        header, *lines = demo_directory_text().splitlines()
        handover = "\n".join(
            [
                f"{header},active",
                *(f"{line}," for line in lines),
                f"{FORMER_ODENSE_KOMMUNE},kommune,Odense Kommune (gammel),,461,kommunenummer,461,"
                "GGOP,inbox,,,,,false",
            ]
        )

        summary = import_directory(session, handover, now=LATER)

        assert summary == ImportSummary(created=11, updated=1, unchanged=0)
        session.expire_all()
        assert get_organisation(session, gln=FORMER_ODENSE_KOMMUNE).is_active is False
        assert get_organisation(session, gln=ODENSE_KOMMUNE).is_active is True

    def test_corrects_two_kommuner_whose_codes_were_swapped(self, session: Session) -> None:
        swapped = (
            demo_directory_text()
            .replace(",183,kommunenummer,183,", ",SWAP,")
            .replace(",187,kommunenummer,187,", ",183,kommunenummer,183,")
            .replace(",SWAP,", ",187,kommunenummer,187,")
        )
        import_directory(session, swapped, now=FROZEN_NOW)

        summary = import_directory(session, demo_directory_text(), now=LATER)

        assert summary == ImportSummary(created=0, updated=2, unchanged=9)


class TestSaveOrganisation:
    def test_creates_a_new_entry(self, session: Session) -> None:
        row, created = save_organisation(session, make_organisation(), now=FROZEN_NOW)

        assert created is True
        assert (row.gln, row.name, row.municipality_code) == (
            ODENSE_KOMMUNE,
            "Odense Kommune",
            "461",
        )
        assert (row.created_at, row.updated_at) == (FROZEN_NOW, FROZEN_NOW)
        assert count_organisations(session) == 1

    def test_updates_an_existing_entry(self, session: Session) -> None:
        add_organisation(session)

        row, created = save_organisation(
            session, make_organisation(name="Odense Kommune, Genoptræning"), now=LATER
        )

        assert created is False
        assert (row.name, row.created_at, row.updated_at) == (
            "Odense Kommune, Genoptræning",
            FROZEN_NOW,
            LATER,
        )
        assert count_organisations(session) == 1

    def test_saving_an_unchanged_entry_keeps_its_updated_at(self, session: Session) -> None:
        add_organisation(session)

        row, created = save_organisation(session, make_organisation(), now=LATER)

        assert created is False
        assert row.updated_at == FROZEN_NOW

    def test_an_update_replaces_the_whole_entry(self, session: Session) -> None:
        add_organisation(session)

        row, _ = save_organisation(
            session, make_organisation(street=None, phone=None, accepts=["XDIS91"]), now=LATER
        )

        assert (row.street, row.phone, row.accepts) == (None, None, ["XDIS91"])

    def test_refuses_a_second_active_kommune_for_the_same_code(self, session: Session) -> None:
        add_organisation(session)

        with pytest.raises(Conflict) as caught:
            add_organisation(session, gln=FORMER_ODENSE_KOMMUNE, name="Odense Kommune (ny)")

        assert caught.value.status_code == 409
        assert ODENSE_KOMMUNE in caught.value.detail
        assert count_organisations(session) == 1

    def test_allows_a_second_kommune_once_the_first_is_deactivated(self, session: Session) -> None:
        add_organisation(session)
        add_organisation(session, active=False)

        row, created = save_organisation(
            session,
            make_organisation(gln=FORMER_ODENSE_KOMMUNE, name="Odense Kommune (ny)"),
            now=LATER,
        )

        assert (created, row.is_active) == (True, True)
        assert count_organisations(session) == 2

    def test_allows_an_inactive_second_kommune_for_the_same_code(self, session: Session) -> None:
        add_organisation(session)

        row = add_organisation(session, gln=FORMER_ODENSE_KOMMUNE, active=False)

        assert row.is_active is False

    def test_refuses_to_reactivate_a_kommune_whose_code_was_taken(self, session: Session) -> None:
        add_organisation(session, gln=FORMER_ODENSE_KOMMUNE, active=False)
        add_organisation(session)

        with pytest.raises(Conflict):
            add_organisation(session, gln=FORMER_ODENSE_KOMMUNE, active=True)

    def test_a_kommune_may_save_itself_again(self, session: Session) -> None:
        add_organisation(session)

        row, created = save_organisation(session, make_organisation(phone="+4566131373"), now=LATER)

        assert (created, row.phone) == (False, "+4566131373")

    def test_several_hospitals_may_share_a_municipality_code(self, session: Session) -> None:
        add_hospital(session, municipality_code="461")

        row = add_hospital(session, gln="5790009903017", municipality_code="461")

        assert row.municipality_code == "461"


class TestGetOrganisation:
    def test_gets_an_entry_by_gln(self, session: Session) -> None:
        add_organisation(session)

        assert get_organisation(session, gln=ODENSE_KOMMUNE).name == "Odense Kommune"

    def test_raises_not_found_for_an_unknown_gln(self, session: Session) -> None:
        with pytest.raises(NotFound):
            get_organisation(session, gln=FORMER_ODENSE_KOMMUNE)


@pytest.mark.usefixtures("demo_directory")
class TestListOrganisations:
    def test_lists_everything_in_gln_order(self, session: Session) -> None:
        rows, next_cursor = search(session)

        assert glns(rows) == sorted(DEMO_GLNS)
        assert next_cursor is None

    def test_filters_by_kind(self, session: Session) -> None:
        rows, _ = search(session, kind=OrganisationKind.KOMMUNE)

        assert glns(rows) == sorted(DEMO_KOMMUNER)

    def test_filters_by_municipality_code(self, session: Session) -> None:
        rows, _ = search(session, municipality_code="183")

        assert glns(rows) == [ISHOEJ_KOMMUNE]

    @pytest.mark.parametrize("q", ["ISHØJ", "ishøj", "Ishøj", "høj"])
    def test_finds_names_containing_q_in_any_case(self, session: Session, q: str) -> None:
        rows, _ = search(session, q=q)

        assert [row.name for row in rows] == ["Ishøj Kommune (demo)", "Lægehuset Ishøj (demo)"]

    def test_folds_the_case_of_danish_letters(self, session: Session) -> None:
        rows, _ = search(session, q="LÆGE")

        assert [row.name for row in rows] == ["Lægerne i Hjallese (demo)", "Lægehuset Ishøj (demo)"]

    @pytest.mark.parametrize("q", ["Großmann", "GROSSMANN", "grossmann"])
    def test_matches_by_full_case_folding(self, session: Session, q: str) -> None:
        add_clinic(session, gln="5790009900016", name="Fysioterapi Großmann")

        rows, _ = search(session, q=q)

        assert [row.name for row in rows] == ["Fysioterapi Großmann"]

    def test_combines_the_filters(self, session: Session) -> None:
        rows, _ = search(session, kind=OrganisationKind.ALMEN_PRAKSIS, q="ishøj")

        assert glns(rows) == [ISHOEJ_GP]

    def test_finds_nothing_when_nothing_matches(self, session: Session) -> None:
        assert search(session, q="Aalborg") == ([], None)

    @pytest.mark.parametrize("q", ["%", "_", "o_e", "o%e", "\\"])
    def test_takes_like_wildcards_in_q_literally(self, session: Session, q: str) -> None:
        # Unescaped, "o_e" and "o%e" would match "Odense", "%" and "_" everything.
        assert search(session, q=q) == ([], None)

    @pytest.mark.parametrize(("q", "name"), [("100%", "100% Træning"), ("a_b", "Klinik A_B")])
    def test_finds_names_with_percent_and_underscore(
        self, session: Session, q: str, name: str
    ) -> None:
        add_clinic(session, gln="5790009900016", name=name)
        add_clinic(session, gln="5790009900023", name="100 Træning Klinik AxB")

        rows, _ = search(session, q=q)

        assert [row.name for row in rows] == [name]

    def test_pages_walk_every_row_once_in_gln_order(self, session: Session) -> None:
        seen: list[str] = []
        page_sizes: list[int] = []
        cursor: str | None = None
        while True:
            rows, cursor = search(session, cursor=cursor, limit=4)
            seen += glns(rows)
            page_sizes.append(len(rows))
            if cursor is None:
                break

        assert seen == sorted(DEMO_GLNS)
        assert page_sizes == [4, 4, 3]

    def test_a_page_that_holds_the_rest_has_no_next_cursor(self, session: Session) -> None:
        rows, next_cursor = search(session, limit=11)

        assert len(rows) == 11
        assert next_cursor is None

    def test_the_cursor_continues_after_the_last_row_of_the_page(self, session: Session) -> None:
        first, cursor = search(session, limit=1)

        second, _ = search(session, cursor=cursor, limit=1)

        assert glns(first) == sorted(DEMO_GLNS)[:1]
        assert glns(second) == sorted(DEMO_GLNS)[1:2]

    def test_pages_keep_the_filters(self, session: Session) -> None:
        seen: list[str] = []
        cursor: str | None = None
        while True:
            rows, cursor = search(session, kind=OrganisationKind.KOMMUNE, cursor=cursor, limit=2)
            seen += glns(rows)
            if cursor is None:
                break

        assert seen == sorted(DEMO_KOMMUNER)

    @pytest.mark.parametrize(
        "cursor",
        [
            "garbage",
            "!!!",
            "a",
            "æøå",
            cursor_for("hello"),
            cursor_for("5790000121442"),  # a GLN with a wrong check digit
            base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        ],
    )
    def test_rejects_a_cursor_it_did_not_issue(self, session: Session, cursor: str) -> None:
        with pytest.raises(ValidationFailed) as caught:
            search(session, cursor=cursor)

        assert caught.value.errors == [
            FieldError("cursor", "cursor_invalid", "Use the next_cursor of the previous page.")
        ]


def push_file(*rows: dict[str, Any]) -> str:
    """A directory file with the push columns, one line per row."""
    columns = (*COLUMNS, "endpoint_url", "signing_secret")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        cells = (row.get(column) for column in columns)
        writer.writerow(
            ";".join(cell) if isinstance(cell, list) else "" if cell is None else str(cell)
            for cell in cells
        )
    return buffer.getvalue()


def stored_secret(session: Session, gln: str) -> str | None:
    return session.scalar(
        select(orm.Organisation.signing_secret).where(orm.Organisation.gln == gln)
    )


class TestImportDirectoryPushTargets:
    def test_stores_the_endpoint_and_the_secret(self, session: Session) -> None:
        import_directory(session, push_file(push_fields()), now=FROZEN_NOW)

        row = get_organisation(session, gln=ODENSE_KOMMUNE)
        assert (row.delivery, row.endpoint_url) == ("push", PUSH_ENDPOINT)
        assert stored_secret(session, ODENSE_KOMMUNE) == SIGNING_SECRET

    def test_an_empty_secret_cell_keeps_the_stored_secret(self, session: Session) -> None:
        import_directory(session, push_file(push_fields()), now=FROZEN_NOW)

        summary = import_directory(session, push_file(push_fields(signing_secret=None)), now=LATER)

        assert summary == ImportSummary(created=0, updated=0, unchanged=1)
        assert stored_secret(session, ODENSE_KOMMUNE) == SIGNING_SECRET

    def test_refuses_push_without_a_secret_given_or_stored_naming_the_line(
        self, session: Session
    ) -> None:
        text = push_file(hospital_fields(), push_fields(signing_secret=None))

        with pytest.raises(DirectoryFileRejected) as caught:
            import_directory(session, text, now=FROZEN_NOW)

        assert [(p.line, p.column, p.rule) for p in caught.value.problems] == [
            (3, "signing_secret", "push_needs_signing_secret")
        ]
        assert count_organisations(session) == 0


class TestRotateSigningSecret:
    def test_stores_a_new_secret_and_returns_it(self, session: Session) -> None:
        add_organisation(session, **push_fields())

        secret = rotate_signing_secret(session, gln=ODENSE_KOMMUNE, now=LATER)

        assert secret != SIGNING_SECRET
        assert stored_secret(session, ODENSE_KOMMUNE) == secret

    def test_stamps_updated_at(self, session: Session) -> None:
        add_organisation(session, **push_fields())

        rotate_signing_secret(session, gln=ODENSE_KOMMUNE, now=LATER)

        assert get_organisation(session, gln=ODENSE_KOMMUNE).updated_at == LATER

    def test_gives_an_inbox_organisation_a_secret_for_a_later_switch_to_push(
        self, session: Session
    ) -> None:
        add_organisation(session)

        secret = rotate_signing_secret(session, gln=ODENSE_KOMMUNE, now=LATER)

        assert stored_secret(session, ODENSE_KOMMUNE) == secret
        assert get_organisation(session, gln=ODENSE_KOMMUNE).delivery == "inbox"

    def test_raises_not_found_for_an_unknown_gln(self, session: Session) -> None:
        with pytest.raises(NotFound):
            rotate_signing_secret(session, gln=ODENSE_KOMMUNE, now=LATER)


class TestPushTargetConstraint:
    def test_the_database_refuses_a_push_organisation_without_a_secret(
        self, session: Session
    ) -> None:
        # The service checks first (push_needs_signing_secret); the CHECK keeps any other
        # writer from leaving the worker a receiver it cannot sign for.
        row = add_organisation(session, **push_fields())

        row.signing_secret = None

        with pytest.raises(IntegrityError), session.begin_nested():
            session.flush()
