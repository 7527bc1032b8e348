"""The correspondence letter (MedCom XDIS91 ClinicalEmail XD9134L, *korrespondancebrev*) as
Sektorbro takes it in JSON: the body of POST /v1/letters (api.md, "Letter").

Every length and code list of ClinicalEmail.xsd (formats.md §5; schemas/medcom/2006-07-01/) is
enforced here, so that rendering never fails on caller input. Rules that need the database
(may the caller answer `reply_to`, is `corrects` its own letter) live in app/services/letters.py.

Imports only app.domain.
"""

from enum import StrEnum
from typing import Annotated, Any, Final

from pydantic import AfterValidator, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from app.domain.base import SektorbroModel, check_xml_text
from app.domain.identifiers import Cpr, Gln, LetterId, MessageId
from app.domain.plan import Address, Reference, one_patient_identifier
from app.domain.text import FormattedText, Segment, plain_text

__all__ = [
    "AS_WRITTEN",
    "MAX_REFERENCES",
    "MAX_TEXT_BLOCKS",
    "MEDICAL_SPECIALITY_CODES",
    "TEXT_BLOCK_LIMIT",
    "EpisodeOfCareStatus",
    "Letter",
    "LetterPatient",
    "LetterReference",
    "LetterStatus",
    "Priority",
    "TextBlock",
]

# ClinicalEmail.xsd: ClinicalInformation and Reference occur at most 10 times each.
MAX_TEXT_BLOCKS = 10
MAX_REFERENCES = 10
# MedCom publishes no limit for one Text01 (FormattedText.xsd is unbounded; formats.md §5,
# §13). The one known production implementation writes blocks of at most 3150 characters, 9
# EDIFACT FTX segments of 350, so a longer block could not pass MedCom's XML/EDIFACT converters
# to a receiver on DIS91. Counted as plain text, a line break (a <Break/>) as one character,
# as app/xml/render.py counts when it splits a plan into blocks.
TEXT_BLOCK_LIMIT = 3150
# The validation context for a letter as another system wrote it: an inbound XDIS91 letter, or
# a stored letter read back. The limit above protects the letters Sektorbro lays out from JSON;
# a Text01 that MedCom's schema accepts (FormattedText.xsd bounds none) is taken and passed on
# as written, e.g. MedCom's own GGOP2XDIS91 output with one Text01 of 3644 characters.
AS_WRITTEN: Final[dict[str, Any]] = {"text_blocks_as_written": True}

# MedCom 2006 MedicalSpecialityCodeType (schemas/medcom/2006-07-01/ValueLists.xsd), verbatim,
# including MedCom's "patologi " with its space: an XDIS91 Sender's speciality, which a
# letter's receiver gets as the sender wrote it.
MEDICAL_SPECIALITY_CODES: Final = frozenset(
    {
        "ikkeklassificeret", "intern_medicin_sygehus", "geriatri", "hepatologi", "haematologi",
        "infektionsmedicin", "kardiologi", "med_allergologi", "med_endokrinologi",
        "med_gastroenterologi", "med_lungesygdomme", "nefrologi", "reumatologi",
        "dermato_venerologi_sygehus", "neurologi", "onkologi", "kirurgi_sygehus", "karkirurgi",
        "kir_gastroenterologi", "plastikkirurgi", "thoraxkirurgi", "urologi",
        "gynaekologi_obstetrik_sygehus", "neurokirurgi", "ortopaedisk_kirurgi_sygehus",
        "oftalmologi", "oto_rhino_laryngologi", "hospitalsodontologi", "psykiatri_sygehus",
        "boerne_ungdomspsykiatri", "klin_biokemi", "klin_fys_nuklearmedicin", "klin_immunologi",
        "klin_mikrobiologi", "klin_neurofysiologi", "patologisk_anatomi",
        "diagnostisk_radiologi", "klin_farmakologi", "klin_genetik", "anaestesiologi_sygehus",
        "arbejdsmedicin", "almen_medicin", "samfundsmedicin", "almenlaege_laegevagt",
        "oejenlaege", "oere_naese_halslaege", "anaestesiologi_praksis", "roentgen_kbh",
        "dermato_venerologi_praksis", "roentgen", "reumatologi_fysiurgi",
        "gynaekologi_obstetrik_praksis", "intern_medicin_praksis", "kirurgi_praksis",
        "klinisk_kemi", "neuromedicin", "ortopaedisk_kirurgi_praksis", "patologi ",
        "plastkirurgi", "psykiatri_praksis", "paediatri", "boernepsykiatri", "tropemedicin",
        "tandlaege", "fysioterapi", "kiropraktor", "briller", "fodterapi", "fodbehandlking",
        "med_laboratorier", "omegnslaboratorier", "psykolog",
    }
)  # fmt: skip

# MedCom's lengths (formats.md §3.4, §5).
PersonName = Annotated[str, Field(min_length=1, max_length=70)]
Text35 = Annotated[str, Field(min_length=1, max_length=35)]
Text70 = Annotated[str, Field(min_length=1, max_length=70)]


class Priority(StrEnum):
    """XDIS91 `AdditionalInformation/Priority` (ClinicalEmail.xsd)."""

    RUTINE = "rutine"
    HOEJ_PRIORITET = "høj_prioritet"


class LetterStatus(StrEnum):
    """XDIS91 `Letter/StatusCode` (LetterType.xsd StatusCodeType)."""

    NYTBREV = "nytbrev"  # a new letter
    RETTETBREV = "rettetbrev"  # replaces a letter sent earlier


class EpisodeOfCareStatus(StrEnum):
    """XDIS91 `Patient/EpisodeOfCareStatusCode` (ValueLists.xsd EpisodeOfCareStatusCode01Type):
    the patient's current hospital contact."""

    INAKTIV = "inaktiv"  # no current hospital contact, e.g. discharged
    INDLAGT = "indlagt"  # admitted
    AMBULANT = "ambulant"  # in an outpatient course
    DOED = "doed"  # deceased
    AMBULANT_ROENTGEN = "ambulant_roentgen"  # outpatient radiology


# XDIS91's Reference with a URL (Reference.xsd: RefDescription 1-70, URL 1-350), as a plan
# carries it. References to binary letters (BIN) and SUP are not supported.
LetterReference = Reference


def _check_text_block(block: str | list[Segment], info: ValidationInfo) -> str | list[Segment]:
    """A text block that one Text01 carries without loss (FormattedText.xsd), and, unless
    validated `AS_WRITTEN`, one that Sektorbro would lay out itself."""
    if isinstance(block, str):
        # SektorbroModel checks a field's own text, not text inside a list.
        check_xml_text(block)
    else:
        for index, segment in enumerate(block):
            # Bold, Italic and Underline hold only text, Break and Space: one of them per run
            # (inside FixedFont or not). A second would be dropped on the way to XML.
            if segment.bold + segment.italic + segment.underline > 1:
                raise PydanticCustomError(
                    "formatting_combination",
                    "MedCom's formatted text gives a piece of text one of bold, italic or "
                    "underline (and optionally a fixed font); segment {index} asks for more.",
                    {"index": index},
                )
    length = len(plain_text(block))
    as_written = bool(info.context and info.context.get("text_blocks_as_written"))
    if length > TEXT_BLOCK_LIMIT and not as_written:
        raise PydanticCustomError(
            "text_block_too_long",
            "A text block holds at most {limit} characters (a line break counts as one); this "
            "one has {length}. Split the text into more blocks.",
            {"limit": TEXT_BLOCK_LIMIT, "length": length},
        )
    return block


TextBlock = Annotated[FormattedText, AfterValidator(_check_text_block)]


class LetterPatient(SektorbroModel):
    """The patient the letter is about: XDIS91 `Patient` (Patient.xsd)."""

    alternative_id: Annotated[str, Field(min_length=10, max_length=10)] | None = Field(
        default=None,
        description="Replacement identifier (erstatningsnummer, exactly 10 characters, MedCom "
        "`AlternativeIdentifier`) for a patient without a CPR number. Give either this or "
        "`cpr`.",
        examples=["0703921VJ5"],
    )
    cpr: Cpr | None = Field(default=None, validate_default=True)
    surname: PersonName = Field(
        description="Surname (MedCom `PersonSurnameName`).", examples=["Ann Berggren"]
    )
    given_name: PersonName | None = Field(
        default=None, description="Given names (MedCom `PersonGivenName`).", examples=["Nancy"]
    )
    address: Address | None = Field(
        default=None,
        description="The patient's address as XDIS91 carries it: street, suburb, district "
        "(postal district), postcode.",
    )
    occupation: Text35 | None = Field(
        default=None, description="Occupation (MedCom `OccupancyText`).", examples=["Tømrer"]
    )
    episode_of_care_status: EpisodeOfCareStatus = Field(
        # Letters between hospital, kommune and GP in a rehabilitation course are written about
        # a discharged patient; MedCom's GGOP2XDIS91 conversion and every public XDIS91 example
        # say `inaktiv`.
        default=EpisodeOfCareStatus.INAKTIV,
        description="The patient's current hospital contact (MedCom "
        "`EpisodeOfCareStatusCode`): `inaktiv` (none, e.g. discharged; the default), "
        "`indlagt`, `ambulant`, `doed` or `ambulant_roentgen`.",
        examples=["inaktiv"],
    )

    @field_validator("cpr", mode="after")
    @classmethod
    def _cpr_or_alternative_id(cls, value: str | None, info: ValidationInfo) -> str | None:
        return one_patient_identifier(value, info)


class Letter(SektorbroModel):
    """A correspondence letter: the body of POST /v1/letters (api.md)."""

    letter_id: LetterId | None = Field(
        default=None,
        description="The sender's letter id (MedCom `Letter/Identifier`, 1-14 printable ASCII "
        "characters). Leave it out and Sektorbro assigns one. The same sender and letter id "
        "again is a duplicate.",
        examples=["OUHL2026112001"],
    )
    receiver_gln: Gln = Field(
        description="The receiving organisation's GLN; it must be in the directory and take "
        "XDIS91.",
        examples=["5790009902010"],
    )
    patient: LetterPatient = Field(description="The patient the letter is about.")
    priority: Priority = Field(
        default=Priority.RUTINE,
        description="MedCom `Priority`: `rutine` (the default) or `høj_prioritet`.",
        examples=["rutine"],
    )
    subject: Text70 | None = Field(
        default=None,
        description="The letter's subject (MedCom `Subject`, at most 70 characters).",
        examples=["Spørgsmål om smertebehandling"],
    )
    text_blocks: list[TextBlock] = Field(
        default_factory=list,
        max_length=MAX_TEXT_BLOCKS,
        validate_default=True,
        description="The letter's text in at most 10 blocks (MedCom `ClinicalInformation/"
        f"Text01`), each at most {TEXT_BLOCK_LIMIT} characters (an XDIS91 letter posted as "
        "XML keeps its blocks as written). A block is a string, where a "
        "newline is a line break, or a list of segments with `text` and optional `bold`, "
        "`italic`, `underline`, `fixed_font`; one of bold, italic and underline per segment.",
        examples=[
            [
                "Kære læge,\nPatienten har fortsat smerter i venstre hofte efter udskrivelsen.",
                [{"text": "Vigtigt: ", "bold": True}, {"text": "ring før kl. 12."}],
            ]
        ],
    )
    episode_of_care_id: (
        Annotated[str, Field(min_length=1, max_length=35, pattern=r"^[!-~]+$")] | None
    ) = Field(
        default=None,
        description="The sender's id of the course of care (MedCom `EpisodeOfCareIdentifier`).",
        examples=["EOC-4202360-88311"],
    )
    references: list[LetterReference] = Field(
        default_factory=list,
        max_length=MAX_REFERENCES,
        description="Links for the reader (MedCom `Reference` with a URL), at most 10.",
    )
    reply_to: MessageId | None = Field(
        default=None,
        description="The `message_id` of a message you received that this letter answers; "
        "the letter joins its thread.",
        examples=["0f8e6d52-3c1a-4b7e-9a55-2d4c8b1e7f30"],
    )
    status: LetterStatus = Field(
        default=LetterStatus.NYTBREV,
        description="MedCom `StatusCode`: `nytbrev` (the default) or `rettetbrev`, a "
        "correction that replaces the letter named in `corrects`.",
        examples=["nytbrev"],
    )
    corrects: MessageId | None = Field(
        default=None,
        validate_default=True,
        description="With `status: rettetbrev`: the `message_id` of your own letter that this "
        "one replaces.",
        examples=["3b9f1c2e-8d4a-4f6b-b1e7-5a2c9d8e7f10"],
    )

    @field_validator("text_blocks", mode="after")
    @classmethod
    def _says_something(
        cls, value: list[str | list[Segment]], info: ValidationInfo
    ) -> list[str | list[Segment]]:
        # ClinicalEmail.xsd allows a letter with neither Subject nor ClinicalInformation, but
        # such a letter tells the receiver nothing. A subject alone can be the whole message
        # ("Patienten er udeblevet"), and letters converted from EDIFACT often have text only.
        if not value and "subject" in info.data and info.data["subject"] is None:
            raise PydanticCustomError(
                "letter_empty",
                "A letter needs a subject or at least one text block.",
            )
        return value

    @field_validator("corrects", mode="after")
    @classmethod
    def _corrects_only_a_correction(cls, value: str | None, info: ValidationInfo) -> str | None:
        # MedCom StatusCode: a rettetbrev replaces an earlier letter, so it must say which one;
        # a nytbrev replaces nothing.
        status = info.data.get("status")
        if status == LetterStatus.RETTETBREV and value is None:
            raise PydanticCustomError(
                "correction_needs_corrects",
                "A correction (status rettetbrev) names the letter it replaces in `corrects`.",
            )
        if status == LetterStatus.NYTBREV and value is not None:
            raise PydanticCustomError(
                "corrects_requires_rettetbrev",
                "Only a correction (status rettetbrev) replaces a letter; remove `corrects` or "
                "set the status to rettetbrev.",
            )
        return value
