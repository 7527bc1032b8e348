"""The correspondence letter in the domain (POST /v1/letters, MedCom XDIS91): its defaults, the
limits of ClinicalEmail.xsd, the per-block text limit, and the rules about corrections."""

from typing import Any

import pytest
from pydantic import ValidationError

from app.domain.letters import (
    MAX_REFERENCES,
    MAX_TEXT_BLOCKS,
    TEXT_BLOCK_LIMIT,
    EpisodeOfCareStatus,
    Letter,
    LetterStatus,
    Priority,
)
from app.domain.text import Segment
from tests.factories import make_letter

MESSAGE_ID = "0f8e6d52-3c1a-4b7e-9a55-2d4c8b1e7f30"


def letter(**overrides: Any) -> Letter:
    return Letter.model_validate(make_letter(**overrides))


def patient(**overrides: Any) -> dict[str, Any]:
    return {"cpr": "2512484916", "surname": "Ann Berggren", **overrides}


def errors(**overrides: Any) -> list[tuple[tuple[str | int, ...], str]]:
    """The (location, rule) of each error the letter with `overrides` is refused with."""
    with pytest.raises(ValidationError) as caught:
        letter(**overrides)
    return [(error["loc"], error["type"]) for error in caught.value.errors()]


class TestDefaults:
    def test_the_factory_letter_is_valid(self) -> None:
        assert letter().subject == "Spørgsmål om smertebehandling"

    def test_a_letter_is_routine_by_default(self) -> None:
        fields = make_letter()
        del fields["priority"]

        assert Letter.model_validate(fields).priority is Priority.RUTINE

    def test_a_letter_is_new_by_default(self) -> None:
        assert letter().status is LetterStatus.NYTBREV

    def test_the_patient_is_without_hospital_contact_by_default(self) -> None:
        # MedCom's GGOP2XDIS91 and every public XDIS91 example: a discharged patient, inaktiv.
        assert letter().patient.episode_of_care_status is EpisodeOfCareStatus.INAKTIV

    def test_without_a_letter_id_sektorbro_assigns_one(self) -> None:
        assert letter().letter_id is None

    def test_the_codes_are_medcoms(self) -> None:
        assert [p.value for p in Priority] == ["rutine", "høj_prioritet"]
        assert [s.value for s in LetterStatus] == ["nytbrev", "rettetbrev"]
        assert [s.value for s in EpisodeOfCareStatus] == [
            "inaktiv",
            "indlagt",
            "ambulant",
            "doed",
            "ambulant_roentgen",
        ]


class TestPatient:
    def test_a_patient_without_cpr_is_named_by_a_replacement_id(self) -> None:
        written = letter(patient={"alternative_id": "0703921VJ5", "surname": "Berggren"})

        assert written.patient.alternative_id == "0703921VJ5"

    def test_a_patient_needs_a_cpr_number_or_a_replacement_id(self) -> None:
        assert errors(patient={"surname": "Berggren"}) == [
            (("patient", "cpr"), "patient_identifier_required")
        ]

    def test_a_patient_has_a_cpr_number_or_a_replacement_id_not_both(self) -> None:
        assert errors(patient=patient(alternative_id="0703921VJ5")) == [
            (("patient", "cpr"), "patient_identifier_twice")
        ]

    def test_a_replacement_id_has_exactly_ten_characters(self) -> None:
        # GeneralTypes.xsd AlternativeCprType: length 10.
        assert errors(patient={"alternative_id": "0703921VJ", "surname": "B"}) == [
            (("patient", "alternative_id"), "string_too_short")
        ]

    def test_a_cpr_number_must_be_a_real_birth_date(self) -> None:
        # MedCom's example korr_x9134 has day 15 of month 22.
        assert errors(patient=patient(cpr="1522824933")) == [(("patient", "cpr"), "cpr_birth_date")]

    def test_a_surname_has_at_most_70_characters(self) -> None:
        assert errors(patient=patient(surname="B" * 71)) == [
            (("patient", "surname"), "string_too_long")
        ]

    def test_an_occupation_has_at_most_35_characters(self) -> None:
        assert errors(patient=patient(occupation="T" * 36)) == [
            (("patient", "occupation"), "string_too_long")
        ]

    def test_the_address_carries_xdis91s_four_parts(self) -> None:
        address = {"street": "Park Allé 48", "suburb": "Hjallese", "district": "Odense S"}
        written = letter(patient=patient(address=address | {"postcode": "5260"}))

        assert written.patient.address is not None
        assert written.patient.address.postcode == "5260"

    def test_an_episode_of_care_status_outside_medcoms_list_is_refused(self) -> None:
        assert errors(patient=patient(episode_of_care_status="udskrevet")) == [
            (("patient", "episode_of_care_status"), "enum")
        ]


class TestLimits:
    def test_a_letter_id_has_at_most_14_characters(self) -> None:
        assert errors(letter_id="L" * 15) == [(("letter_id",), "string_too_long")]

    def test_a_letter_id_is_printable_ascii(self) -> None:
        assert errors(letter_id="Brev nr 1") == [(("letter_id",), "string_pattern_mismatch")]

    def test_the_receiver_is_a_gln_with_a_valid_check_digit(self) -> None:
        # MedCom's Hillerød examples (DIS91_1, korr_x9134) name 5790000128700.
        assert errors(receiver_gln="5790000128700") == [(("receiver_gln",), "gln_check_digit")]

    def test_a_subject_has_at_most_70_characters(self) -> None:
        assert errors(subject="S" * 71) == [(("subject",), "string_too_long")]

    def test_an_episode_of_care_id_has_at_most_35_characters(self) -> None:
        assert errors(episode_of_care_id="E" * 36) == [(("episode_of_care_id",), "string_too_long")]

    def test_a_letter_has_at_most_ten_text_blocks(self) -> None:
        assert errors(text_blocks=["Tekst"] * (MAX_TEXT_BLOCKS + 1)) == [
            (("text_blocks",), "too_long")
        ]

    def test_a_letter_has_at_most_ten_references(self) -> None:
        reference = {"description": "Vejledning", "url": "https://www.sst.dk"}

        assert errors(references=[reference] * (MAX_REFERENCES + 1)) == [
            (("references",), "too_long")
        ]

    def test_a_reference_description_has_at_most_70_characters(self) -> None:
        reference = {"description": "V" * 71, "url": "https://www.sst.dk"}

        assert errors(references=[reference]) == [
            (("references", 0, "description"), "string_too_long")
        ]

    def test_a_reference_url_has_at_most_350_characters(self) -> None:
        reference = {"description": "Vejledning", "url": "https://www.sst.dk/" + "a" * 332}

        assert errors(references=[reference]) == [(("references", 0, "url"), "string_too_long")]


class TestTextBlocks:
    def test_a_block_may_fill_the_limit(self) -> None:
        assert letter(text_blocks=["x" * TEXT_BLOCK_LIMIT]).text_blocks == ["x" * TEXT_BLOCK_LIMIT]

    def test_a_block_longer_than_the_limit_is_refused(self) -> None:
        assert errors(text_blocks=["ok", "x" * (TEXT_BLOCK_LIMIT + 1)]) == [
            (("text_blocks", 1), "text_block_too_long")
        ]

    def test_the_limit_counts_the_text_of_all_segments_and_a_line_break_as_one(self) -> None:
        half = "x" * (TEXT_BLOCK_LIMIT // 2)
        block = [{"text": half, "bold": True}, {"text": "\n" + half}]

        assert errors(text_blocks=[block]) == [(("text_blocks", 0), "text_block_too_long")]

    def test_a_segment_keeps_its_spaces(self) -> None:
        block = letter(text_blocks=[[{"text": "Vigtigt: ", "bold": True}, {"text": "ring"}]])

        assert block.text_blocks == [[Segment(text="Vigtigt: ", bold=True), Segment(text="ring")]]

    def test_a_plain_block_is_trimmed(self) -> None:
        assert letter(text_blocks=["  Kære læge,\n  hej  "]).text_blocks == ["Kære læge,\n  hej"]

    def test_fixed_font_combines_with_one_emphasis(self) -> None:
        block = [{"text": "500 mg", "fixed_font": True, "bold": True}]

        assert letter(text_blocks=[block]).text_blocks == [
            [Segment(text="500 mg", fixed_font=True, bold=True)]
        ]

    @pytest.mark.parametrize(
        "flags",
        [
            {"bold": True, "italic": True},
            {"bold": True, "underline": True},
            {"italic": True, "underline": True, "fixed_font": True},
        ],
    )
    def test_two_emphases_on_one_segment_are_refused(self, flags: dict[str, bool]) -> None:
        # FormattedText.xsd: Bold, Italic and Underline hold no further formatting.
        assert errors(text_blocks=[[{"text": "Indledning "}, {"text": "x", **flags}]]) == [
            (("text_blocks", 0), "formatting_combination")
        ]

    def test_a_control_character_in_a_plain_block_is_refused(self) -> None:
        assert errors(text_blocks=["Kære\x01læge"]) == [
            (("text_blocks", 0), "xml_illegal_character")
        ]

    def test_a_control_character_in_a_segment_is_refused(self) -> None:
        assert errors(text_blocks=[[{"text": "a\x00b"}]]) == [
            (("text_blocks", 0, "<segments>", 0, "text"), "xml_illegal_character")
        ]

    def test_an_empty_block_is_refused(self) -> None:
        assert errors(text_blocks=[""]) == [(("text_blocks", 0, "<text>"), "string_too_short")]


class TestContent:
    def test_a_letter_with_a_subject_only_is_valid(self) -> None:
        assert letter(text_blocks=[]).text_blocks == []

    def test_a_letter_with_text_only_is_valid(self) -> None:
        assert letter(subject=None).subject is None

    def test_a_letter_with_neither_subject_nor_text_is_refused(self) -> None:
        assert errors(subject=None, text_blocks=[]) == [(("text_blocks",), "letter_empty")]


class TestThreads:
    def test_a_reply_names_the_message_it_answers(self) -> None:
        assert letter(reply_to=MESSAGE_ID).reply_to == MESSAGE_ID

    def test_a_message_id_is_stored_in_lower_case(self) -> None:
        assert letter(reply_to=MESSAGE_ID.upper()).reply_to == MESSAGE_ID

    def test_reply_to_is_a_message_id(self) -> None:
        assert errors(reply_to="BrevNr00129") == [(("reply_to",), "message_id_format")]

    def test_a_correction_names_the_letter_it_replaces(self) -> None:
        correction = letter(status="rettetbrev", corrects=MESSAGE_ID)

        assert (correction.status, correction.corrects) == (LetterStatus.RETTETBREV, MESSAGE_ID)

    def test_a_correction_without_corrects_is_refused(self) -> None:
        assert errors(status="rettetbrev") == [(("corrects",), "correction_needs_corrects")]

    def test_a_new_letter_naming_a_letter_it_corrects_is_refused(self) -> None:
        assert errors(corrects=MESSAGE_ID) == [(("corrects",), "corrects_requires_rettetbrev")]


def test_a_letter_survives_its_json_form() -> None:
    # The service stores model_dump(mode="json") and reads it back with model_validate.
    written = letter(
        letter_id="OUHL0001",
        priority="høj_prioritet",
        text_blocks=["Kære læge", [{"text": "Vigtigt", "underline": True}]],
        status="rettetbrev",
        corrects=MESSAGE_ID,
    )

    assert Letter.model_validate(written.model_dump(mode="json")) == written


def test_unknown_fields_are_refused() -> None:
    assert errors(cc_receivers=["5790009902010"]) == [(("cc_receivers",), "extra_forbidden")]
