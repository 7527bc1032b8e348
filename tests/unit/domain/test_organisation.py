"""The directory entry: which organisations are valid, and which rule and field a bad one names."""

from typing import Any

import pytest
from pydantic import ValidationError

from app.domain.organisation import (
    DeliveryChannel,
    IdentifierCode,
    MessageFormat,
    Organisation,
    OrganisationKind,
)
from tests.factories import (
    ODENSE_KOMMUNE,
    PUSH_ENDPOINT,
    SIGNING_SECRET,
    gp_fields,
    hospital_fields,
    make_organisation,
    organisation_fields,
    push_fields,
)

Loc = tuple[str | int, ...]


def broken_rules(fields: dict[str, Any]) -> list[tuple[Loc, str]]:
    """The (location, rule) pairs that validating `fields` reports."""
    with pytest.raises(ValidationError) as caught:
        Organisation.model_validate(fields)
    return [(error["loc"], error["type"]) for error in caught.value.errors()]


class TestOrganisation:
    def test_the_factory_default_is_a_valid_kommune(self) -> None:
        organisation = make_organisation()

        assert organisation.gln == ODENSE_KOMMUNE
        assert organisation.kind == OrganisationKind.KOMMUNE
        assert organisation.municipality_code == "461"
        assert organisation.active is True

    def test_a_hospital_needs_no_municipality_code(self) -> None:
        organisation = Organisation.model_validate(hospital_fields())

        assert organisation.municipality_code is None

    def test_reports_an_invalid_gln_at_gln(self) -> None:
        assert broken_rules(organisation_fields(gln="5790000121442")) == [
            (("gln",), "gln_check_digit")
        ]


class TestOrganisationMunicipalityCode:
    def test_a_kommune_needs_a_municipality_code(self) -> None:
        assert broken_rules(organisation_fields(municipality_code=None)) == [
            (("municipality_code",), "kommune_needs_municipality_code")
        ]

    def test_a_kommune_that_leaves_the_municipality_code_out_is_rejected(self) -> None:
        fields = organisation_fields()
        del fields["municipality_code"]

        assert broken_rules(fields) == [(("municipality_code",), "kommune_needs_municipality_code")]

    def test_is_stored_in_its_3_digit_form(self) -> None:
        organisation = make_organisation(municipality_code="0461", identifier="0461")

        assert organisation.municipality_code == "461"
        assert organisation.identifier == "461"

    @pytest.mark.parametrize(
        ("code", "rule"),
        [
            ("999", "kommunekode_unknown"),
            ("0411", "kommunekode_christiansoe"),
            ("46", "kommunekode_format"),
        ],
    )
    def test_reports_an_invalid_code_at_municipality_code(self, code: str, rule: str) -> None:
        fields = hospital_fields(municipality_code=code)

        assert broken_rules(fields) == [(("municipality_code",), rule)]

    def test_a_kommunenummer_must_equal_the_municipality_code(self) -> None:
        assert broken_rules(organisation_fields(identifier="183")) == [
            (("identifier",), "kommunenummer_mismatch")
        ]


class TestOrganisationIdentifier:
    @pytest.mark.parametrize(
        ("identifier_code", "identifier", "rule"),
        [
            ("ydernummer", "abc", "ydernummer_format"),
            ("ydernummer", "1234567", "ydernummer_format"),
            ("sorkode", "1234567890", "sorkode_format"),
            ("region", "465", "regionskode_unknown"),
            ("sygehusafdelingsnummer", "420-2360", "sygehusafdelingsnummer_format"),
            ("kommunenummer", "0411", "kommunekode_christiansoe"),
            ("kommunenummer", "999", "kommunekode_unknown"),
        ],
    )
    def test_is_checked_according_to_its_identifier_code(
        self, identifier_code: str, identifier: str, rule: str
    ) -> None:
        fields = gp_fields(kind="other", identifier_code=identifier_code, identifier=identifier)

        assert broken_rules(fields) == [(("identifier",), rule)]

    @pytest.mark.parametrize(
        ("identifier_code", "identifier"),
        [
            ("ydernummer", "024015"),
            ("sorkode", "451000016003"),
            ("region", "1083"),
            ("sygehusafdelingsnummer", "4202360"),
        ],
    )
    def test_accepts_a_valid_identifier_of_each_code(
        self, identifier_code: str, identifier: str
    ) -> None:
        organisation = Organisation.model_validate(
            gp_fields(kind="other", identifier_code=identifier_code, identifier=identifier)
        )

        assert organisation.identifier_code == IdentifierCode(identifier_code)
        assert organisation.identifier == identifier

    def test_the_same_number_passes_or_fails_by_its_identifier_code(self) -> None:
        # 4202360 is a fine sygehusafdelingsnummer but too long for a ydernummer.
        assert Organisation.model_validate(hospital_fields()).identifier == "4202360"

        assert broken_rules(hospital_fields(identifier_code="ydernummer")) == [
            (("identifier",), "ydernummer_format")
        ]

    def test_rejects_an_unknown_identifier_code(self) -> None:
        assert broken_rules(gp_fields(identifier_code="cvr")) == [(("identifier_code",), "enum")]


class TestOrganisationAccepts:
    def test_must_name_at_least_one_format(self) -> None:
        assert broken_rules(organisation_fields(accepts=[])) == [(("accepts",), "too_short")]

    def test_collapses_repeated_formats(self) -> None:
        organisation = make_organisation(accepts=["XDIS91", "GGOP", "XDIS91", "GGOP"])

        assert organisation.accepts == [MessageFormat.GGOP, MessageFormat.XDIS91]

    def test_rejects_an_unknown_format_at_its_position(self) -> None:
        assert broken_rules(organisation_fields(accepts=["GGOP", "XDIS92"])) == [
            (("accepts", 1), "enum")
        ]

    def test_must_be_a_list(self) -> None:
        assert broken_rules(organisation_fields(accepts="GGOP")) == [(("accepts",), "list_type")]


class TestOrganisationDelivery:
    def test_defaults_to_the_inbox(self) -> None:
        fields = organisation_fields()
        del fields["delivery"]

        assert Organisation.model_validate(fields).delivery == DeliveryChannel.INBOX

    def test_push_with_an_endpoint_and_a_secret_is_valid(self) -> None:
        organisation = Organisation.model_validate(push_fields())

        assert organisation.delivery == DeliveryChannel.PUSH
        assert str(organisation.endpoint_url) == PUSH_ENDPOINT

    def test_push_may_leave_the_secret_out(self) -> None:
        # Whether one is stored already is the directory's to judge (app/services/directory.py).
        organisation = Organisation.model_validate(push_fields(signing_secret=None))

        assert organisation.signing_secret is None

    def test_push_needs_an_endpoint_url(self) -> None:
        assert broken_rules(push_fields(endpoint_url=None)) == [
            (("endpoint_url",), "push_needs_endpoint_url")
        ]

    def test_an_endpoint_url_without_push_is_rejected(self) -> None:
        assert broken_rules(organisation_fields(endpoint_url=PUSH_ENDPOINT)) == [
            (("endpoint_url",), "endpoint_url_needs_push")
        ]

    def test_an_unknown_channel_is_rejected(self) -> None:
        assert broken_rules(organisation_fields(delivery="fax")) == [(("delivery",), "enum")]

    def test_the_secret_does_not_show_in_the_repr(self) -> None:
        organisation = Organisation.model_validate(push_fields())

        assert SIGNING_SECRET not in repr(organisation)
        assert SIGNING_SECRET not in organisation.model_dump_json()


class TestOrganisationTextLimits:
    @pytest.mark.parametrize(
        ("field", "limit"),
        [
            ("name", 35),
            ("department", 35),
            ("street", 35),
            ("district", 35),
            ("postcode", 9),
            ("phone", 25),
        ],
    )
    def test_accepts_text_at_the_medcom_limit(self, field: str, limit: int) -> None:
        organisation = make_organisation(**{field: "x" * limit})

        assert getattr(organisation, field) == "x" * limit

    @pytest.mark.parametrize(
        ("field", "limit"),
        [
            ("name", 35),
            ("department", 35),
            ("street", 35),
            ("district", 35),
            ("postcode", 9),
            ("phone", 25),
        ],
    )
    def test_rejects_text_over_the_medcom_limit(self, field: str, limit: int) -> None:
        assert broken_rules(organisation_fields(**{field: "x" * (limit + 1)})) == [
            ((field,), "string_too_long")
        ]

    def test_accepts_an_identifier_of_17_characters(self) -> None:
        organisation = Organisation.model_validate(hospital_fields(identifier="A" * 17))

        assert organisation.identifier == "A" * 17

    def test_rejects_an_identifier_over_17_characters(self) -> None:
        assert broken_rules(hospital_fields(identifier="A" * 18)) == [
            (("identifier",), "string_too_long")
        ]

    @pytest.mark.parametrize("name", ["", "   "])
    def test_rejects_an_empty_name(self, name: str) -> None:
        assert broken_rules(organisation_fields(name=name)) == [(("name",), "string_too_short")]

    @pytest.mark.parametrize("field", ["department", "street", "postcode", "district", "phone"])
    def test_optional_text_may_be_left_out(self, field: str) -> None:
        fields = organisation_fields()
        del fields[field]

        assert getattr(Organisation.model_validate(fields), field) is None


class TestOrganisationUnknownFields:
    @pytest.mark.parametrize("field", ["fax", "GLN", "is_active"])
    def test_rejects_a_field_that_is_not_part_of_the_entry(self, field: str) -> None:
        assert broken_rules(organisation_fields(**{field: "x"})) == [((field,), "extra_forbidden")]


class TestOrganisationText:
    @pytest.mark.parametrize("field", ["name", "department", "street", "district"])
    @pytest.mark.parametrize("character", ["\x00", "\x07", "\x0b", "\x1f", "\ufffe"])
    def test_rejects_a_character_that_xml_cannot_carry(self, field: str, character: str) -> None:
        assert broken_rules(organisation_fields(**{field: f"Od{character}ense"})) == [
            ((field,), "xml_illegal_character")
        ]

    def test_names_the_position_of_the_illegal_character(self) -> None:
        with pytest.raises(ValidationError) as caught:
            make_organisation(street="Flakhaven\x072")

        assert caught.value.errors()[0]["ctx"] == {"position": 9}

    @pytest.mark.parametrize("character", ["\t", "\n"])
    def test_accepts_tab_and_line_breaks(self, character: str) -> None:
        organisation = make_organisation(department=f"Genop{character}træning")

        assert organisation.department == f"Genop{character}træning"

    @pytest.mark.parametrize("line_end", ["\r\n", "\r"])
    def test_reads_a_carriage_return_as_xml_does(self, line_end: str) -> None:
        # XML 1.0 §2.11: every receiver reads CR LF and a lone CR as LF.
        organisation = make_organisation(department=f"Genop{line_end}træning")

        assert organisation.department == "Genop\ntræning"

    def test_trims_surrounding_whitespace(self) -> None:
        organisation = make_organisation(
            gln=f"  {ODENSE_KOMMUNE}\n",
            name="  Odense Kommune\t",
            municipality_code=" 0461 ",
            street=" Flakhaven 2 ",
        )

        assert organisation.gln == ODENSE_KOMMUNE
        assert organisation.name == "Odense Kommune"
        assert organisation.municipality_code == "461"
        assert organisation.street == "Flakhaven 2"

    def test_trims_before_checking_the_length(self) -> None:
        organisation = make_organisation(name=f"  {'x' * 35}  ")

        assert organisation.name == "x" * 35
