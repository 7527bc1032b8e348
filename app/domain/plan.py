"""The genoptræningsplan (rehabilitation plan, MedCom GGOP) as Sektorbro takes it in JSON.

Every element of MedCom's public GGOP example has a field here (formats.md §4.2), and every
length and enumeration of the XML formats is enforced here, so that rendering never fails on
caller input. The legal rules that need only the plan itself are validators; rules that need
the directory live in app/services/plans.py.

Law: sundhedsloven §§ 84 and 140 and the executive order on genoptræningsplaner (domain.md,
domain-rules.md R5-R14, R19-R23).
"""

import datetime
from datetime import date, timedelta
from enum import StrEnum
from typing import Annotated, Any, Final

from pydantic import AwareDatetime, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from app.domain.base import SektorbroModel
from app.domain.identifiers import Cpr, Gln, IcfCode, Kommunekode, SksDiagnosisCode
from app.domain.text import FormattedText

__all__ = [
    "START_WITHIN_DAYS",
    "STORED",
    "Address",
    "AmbulatoryControl",
    "AmbulatoryLocation",
    "CoAddress",
    "ContactAddress",
    "Diagnoses",
    "Diagnosis",
    "GpCopy",
    "HospitalContact",
    "IcfClassification",
    "IcfGradient",
    "JournalExcerpt",
    "Level",
    "Patient",
    "PersonIdentifierCode",
    "Phone",
    "PhoneKind",
    "Plan",
    "PlanSender",
    "PlanType",
    "Reference",
    "Relative",
    "Signer",
    "StatisticalCode",
    "TeamMember",
    "one_patient_identifier",
]

# Validation context for a plan read back from storage: a rule added after it was accepted
# (R8) is not applied again, so a stored plan is never lost to a rule it predates.
STORED: Final[dict[str, Any]] = {"stored": True}


def _is_stored(info: ValidationInfo) -> bool:
    return bool(info.context and info.context.get("stored"))


# Sundhedsloven §140 stk. 4 (since 1 July 2018): the kommune offers a start within 7 calendar
# days after discharge (R19, R23: discharge day is day 0).
START_WITHIN_DAYS = 7

# MedCom's lengths (formats.md §3.4).
Name35 = Annotated[str, Field(min_length=1, max_length=35)]
PersonName = Annotated[str, Field(min_length=1, max_length=70)]
PhoneNumber = Annotated[str, Field(min_length=1, max_length=25)]
PostCode = Annotated[str, Field(min_length=1, max_length=9)]
PartyIdentifier = Annotated[str, Field(min_length=1, max_length=17)]
# An EAN that is only shown to people (contact addresses, the ambulatory location), never used
# to route: MedCom's EANIdentifier is a string of 1-35; a bad check digit is a warning.
InformationalEan = Annotated[
    str,
    Field(
        min_length=1,
        max_length=35,
        description="EAN location number, for information only; a bad check digit gives a "
        "warning, not an error.",
    ),
]
ShortText = Annotated[str, Field(min_length=1, max_length=200)]


class PlanType(StrEnum):
    """GGOP `TypeOfRehabilitationPlan` (R6; bekendtgørelse om genoptræningsplaner §2)."""

    ALMEN = "almen"  # almen genoptræning, by the kommune
    SPECIALISERET = "specialiseret"  # genoptræning på specialiseret niveau, at a hospital
    REHABILITERING = "rehabilitering"  # rehabilitering på specialiseret niveau, by the kommune


class Level(StrEnum):
    """The kommune's sub-levels of almen genoptræning (R15, KL's codes)."""

    BASAL = "basal"
    AVANCERET = "avanceret"


class StatisticalCode(StrEnum):
    """GGOP `StatisticalCode`; MedCom names three variants without publishing their meaning."""

    GGOP1 = "GGOP1"
    GGOP2 = "GGOP2"
    GGOP3 = "GGOP3"


class PhoneKind(StrEnum):
    """GGOP `TelephoneSubscriberCode`."""

    MOBIL = "mobil"
    FASTNET = "fastnet"
    ARBEJDE = "arbejde"


class PersonIdentifierCode(StrEnum):
    """MedCom `IdentifierCode` values (formats.md §3.4; the GGOP example adds `region`)."""

    SYGEHUSAFDELINGSNUMMER = "sygehusafdelingsnummer"
    YDERNUMMER = "ydernummer"
    LOKATIONSNUMMER = "lokationsnummer"
    KOMMUNENUMMER = "kommunenummer"
    AMT = "amt"
    SORKODE = "sorkode"
    REGION = "region"


class Signer(SektorbroModel):
    """A health professional: GGOP `SignedBy`."""

    given_name: PersonName = Field(examples=["Ellinor"])
    surname: PersonName = Field(examples=["Strøm"])
    title: Name35 | None = Field(default=None, examples=["Fysioterapeut"])
    phone: PhoneNumber | None = Field(default=None, examples=["+4566136421"])
    department: Name35 | None = Field(default=None, examples=["Ortopædkirurgisk Afdeling"])


class TeamMember(Signer):
    """A co-writer or a member of the care team (GGOP `CoWriter`, `HealthCareTeam/Member`)."""

    identifier: PartyIdentifier | None = Field(default=None, examples=["34"])
    identifier_code: PersonIdentifierCode | None = Field(default=None, examples=["amt"])


class PlanSender(SektorbroModel):
    """The writing hospital department; its address comes from the directory."""

    gln: Gln = Field(description="The sender's GLN; must be the caller's own.")
    unit: Name35 | None = Field(
        default=None,
        description="The writing sub-unit, e.g. a ward (GGOP `Sender/UnitName`); when absent, "
        "the directory's.",
        examples=["Q"],
    )
    signed_by: Signer
    co_writers: list[TeamMember] = Field(default_factory=list, max_length=10)


class Address(SektorbroModel):
    street: Name35 | None = Field(default=None, examples=["Hindbærvej 23"])
    suburb: Name35 | None = Field(default=None, examples=["Hjallese"])
    district: Name35 | None = Field(default=None, examples=["Odense S"])
    postcode: PostCode | None = Field(default=None, examples=["5260"])


class Phone(SektorbroModel):
    number: PhoneNumber = Field(examples=["+4523321234"])
    kind: PhoneKind = Field(examples=["mobil"])


Email = Annotated[str, Field(min_length=3, max_length=70, pattern=r"^[^@\s]+@[^@\s]+$")]


class CoAddress(Address):
    """GGOP `CoAddress`: the person the patient lives with or receives post through (c/o)."""

    given_name: PersonName | None = Field(default=None, examples=["Rosa"])
    surname: PersonName | None = Field(default=None, examples=["Andersen"])


def one_patient_identifier(cpr: str | None, info: ValidationInfo) -> str | None:
    """Validates `cpr` of a patient model whose `alternative_id` comes before it: MedCom's
    Patient.xsd is a choice of CivilRegistrationNumber and AlternativeIdentifier."""
    alternative_id = info.data.get("alternative_id")
    if cpr is None and alternative_id is None and "alternative_id" in info.data:
        raise PydanticCustomError(
            "patient_identifier_required",
            "A patient is identified by a CPR number, or by `alternative_id` when there is none.",
        )
    if cpr is not None and alternative_id is not None:
        raise PydanticCustomError(
            "patient_identifier_twice",
            "Give either a CPR number or `alternative_id`, not both.",
        )
    return cpr


class Patient(SektorbroModel):
    alternative_id: Annotated[str, Field(min_length=10, max_length=10)] | None = Field(
        default=None,
        description="Replacement identifier (erstatningsnummer, 10 characters) for a patient "
        "without a CPR number. Give either this or `cpr`.",
    )
    cpr: Cpr | None = Field(default=None, validate_default=True)
    given_name: PersonName | None = Field(default=None, examples=["Nancy"])
    surname: PersonName = Field(examples=["Ann Berggren"])
    address: Address | None = None
    municipality_code: Kommunekode = Field(
        description="The bopælskommune's kommunekode; the plan is routed to the kommune "
        "registered for it."
    )
    occupation: Name35 | None = Field(default=None, examples=["Tømrer"])
    phones: list[Phone] = Field(default_factory=list, max_length=10)
    no_phone_reason: ShortText | None = Field(
        default=None, description="Why no phone number is given (GGOP `NoTelephoneReason`)."
    )
    email: Email | None = Field(default=None, examples=["nancy@example.dk"])
    co_address: CoAddress | None = None

    @field_validator("cpr", mode="after")
    @classmethod
    def _cpr_or_alternative_id(cls, value: str | None, info: ValidationInfo) -> str | None:
        return one_patient_identifier(value, info)


class Relative(SektorbroModel):
    relation: Annotated[str, Field(min_length=1, max_length=35, pattern=r"^[a-z_]+$")] = Field(
        description="MedCom `RelationCode`, e.g. `aegtefaelle` or `uspec_paaroerende`.",
        examples=["aegtefaelle"],
    )
    given_name: PersonName | None = Field(default=None, examples=["Irene"])
    surname: PersonName = Field(examples=["Petersen"])
    address: Address | None = None
    phones: list[Phone] = Field(default_factory=list, max_length=10)
    email: Email | None = None


class GpCopy(SektorbroModel):
    """GGOP `GPCCReceiver`: the patient's own GP gets a copy unless the patient declined it."""

    deselected: bool = Field(
        default=False, description="The patient declined the GP copy (GGOP `Deselected`)."
    )
    gln: Gln | None = Field(default=None, validate_default=True, examples=["5790009902010"])

    @field_validator("gln", mode="after")
    @classmethod
    def _gln_or_deselected(cls, value: str | None, info: ValidationInfo) -> str | None:
        # Domain brief rule 2: the GP copy goes out unless the patient declined it.
        deselected = info.data.get("deselected")
        if value is None and deselected is False:
            raise PydanticCustomError(
                "gp_copy_or_deselected",
                "Name the patient's GP (`gp.gln`), or set `gp.deselected` when the patient "
                "declined the copy.",
            )
        if value is not None and deselected:
            raise PydanticCustomError(
                "gp_copy_deselected_with_gln",
                "A deselected GP copy has no GLN; remove `gp.gln` or `gp.deselected`.",
            )
        return value


class HospitalContact(SektorbroModel):
    """GGOP `CurrentHospitalContact`: the admission or outpatient course now ending."""

    start: AwareDatetime = Field(examples=["2026-11-13T12:34:00+01:00"])
    expected_end: AwareDatetime | None = Field(default=None, examples=["2026-11-20T13:45:00+01:00"])
    expected_end_text: ShortText | None = Field(
        default=None, description="The expected end in words, when there is no time."
    )


class AmbulatoryLocation(SektorbroModel):
    """Where the ambulatory control takes place (information for the reader)."""

    ean: InformationalEan | None = None
    identifier: PartyIdentifier | None = None
    identifier_code: PersonIdentifierCode | None = None
    name: Name35 | None = Field(default=None, examples=["Odense Universitetshospital"])
    department: Name35 | None = None
    unit: Name35 | None = None
    street: Name35 | None = None
    suburb: Name35 | None = None
    district: Name35 | None = None
    postcode: PostCode | None = None
    phone: PhoneNumber | None = None


class AmbulatoryControl(SektorbroModel):
    """GGOP `HospitalAmbulatoryControl`: an agreed control at the hospital after discharge."""

    expected_start: AwareDatetime | None = None
    expected_start_text: ShortText | None = None
    location: AmbulatoryLocation | None = None


class ContactAddress(SektorbroModel):
    """How the bopælsregion or -kommune is contacted about the course (R9)."""

    ean: InformationalEan | None = None
    identifier: PartyIdentifier | None = Field(
        default=None, description="With `identifier_code`, e.g. a region number."
    )
    identifier_code: PersonIdentifierCode | None = None
    name: Name35 | None = Field(default=None, examples=["Odense Kommune"])
    department: Name35 = Field(examples=["Odense Kommune, Genoptræning"])
    unit: Name35 | None = None
    street: Name35 | None = Field(default=None, examples=["Flakhaven 2"])
    suburb: Name35 | None = None
    district: Name35 | None = Field(default=None, examples=["Odense C"])
    postcode: PostCode | None = Field(default=None, examples=["5000"])
    phone: PhoneNumber | None = Field(default=None, examples=["+4566131372"])


class Diagnosis(SektorbroModel):
    code: SksDiagnosisCode
    text: ShortText = Field(examples=["Fraktur af lårbenshals"])


class Diagnoses(SektorbroModel):
    """GGOP `ICD10Diagnoses`: one primary diagnosis and any secondary ones (SKS codes)."""

    primary: Diagnosis
    secondary: list[Diagnosis] = Field(default_factory=list, max_length=20)


class IcfGradient(SektorbroModel):
    code: IcfCode
    text: ShortText | None = None


class IcfClassification(SektorbroModel):
    """An ICF category the training is to address (GGOP `ICFClassification`)."""

    code: IcfCode
    text: ShortText | None = Field(default=None, examples=["At gå"])
    gradient: IcfGradient | None = Field(
        default=None, description="GGOP `ICFGradient`; how GGOP encodes qualifiers is not public."
    )


class JournalExcerpt(SektorbroModel):
    kind: Annotated[str, Field(min_length=1, max_length=70)] = Field(
        description="GGOP `TypeOfExcerpt`.", examples=["Uddrag af operationsbeskrivelse"]
    )
    signed_by: Signer | None = None
    date: datetime.date | None = Field(default=None, description="When the excerpt was signed.")
    text: FormattedText


class Reference(SektorbroModel):
    """A link for the reader; XDIS91 limits: description 1-70, URL 1-350."""

    description: Annotated[str, Field(min_length=1, max_length=70)] = Field(
        examples=["Se de gældende anbefalinger her"]
    )
    url: Annotated[str, Field(min_length=1, max_length=350, pattern=r"^https?://\S+$")] = Field(
        examples=["https://www.sst.dk"]
    )


class Plan(SektorbroModel):
    """A genoptræningsplan: `shared/examples/plan-almen.json` is the reference body."""

    letter_id: Annotated[str, Field(min_length=1, max_length=14, pattern=r"^[!-~]+$")] = Field(
        description="The sender's letter id (MedCom `Letter/Identifier`, 1-14 printable ASCII "
        "characters). The same sender and letter id again is a duplicate.",
        examples=["OUH2026112001"],
    )
    episode_of_care_id: (
        Annotated[str, Field(min_length=1, max_length=35, pattern=r"^[!-~]+$")] | None
    ) = Field(default=None, examples=["EOC-4202360-88311"])
    authorised_at: AwareDatetime = Field(
        description="When the plan was signed (GGOP `Authorisation`).",
        examples=["2026-11-20T09:26:00+01:00"],
    )
    statistical_code: StatisticalCode = Field(
        default=StatisticalCode.GGOP2,
        description="GGOP `StatisticalCode`; GGOP2 as in MedCom's public example.",
    )
    plan_type: PlanType = Field(examples=["almen"])
    level: Level | None = Field(
        default=None, description="Only for `almen`: the kommune's level.", examples=["avanceret"]
    )
    receiver_gln: Gln | None = Field(
        default=None,
        description="The primary receiver. By default the kommune registered for "
        "`patient.municipality_code`; when given, it must be that kommune.",
    )
    receiver_unit: Name35 | None = Field(
        default=None,
        description="The kommune's sub-unit the plan is written to (GGOP `Receiver/UnitName`), "
        "with `receiver_gln`; when absent, the directory's.",
    )
    sender: PlanSender
    patient: Patient
    relatives: list[Relative] = Field(default_factory=list, max_length=10)
    gp: GpCopy
    cc_receivers: list[Gln] = Field(
        default_factory=list, max_length=10, description="Further receivers of a copy."
    )
    chosen_hospital_gln: Gln | None = Field(
        default=None,
        description="Only for `specialiseret`: the hospital the patient chose for the "
        "training, when it is not the writing hospital; it gets a copy of the plan (R11, "
        "R28). GGOP has no element of its own for it: its documents name it as a "
        "`CCReceiver`. Leave it out when the training takes place at the writing hospital.",
        examples=["5790009903017"],
    )
    result_receivers: list[Gln] = Field(
        default_factory=list,
        max_length=5,
        description="Who is to receive the kommune's notices about the course (GGOP "
        "`FinalResult/ResultReceiver`, at most 5).",
    )
    consent_informed: bool = Field(
        description="The patient agreed to the plan being sent (GGOP `ConsentInformed`)."
    )
    discharge_date: date = Field(examples=["2026-11-20"])
    hospital_contact: HospitalContact | None = None
    ambulatory_control: AmbulatoryControl | None = None
    deadline_reason: Annotated[str, Field(min_length=1, max_length=1000)] | None = Field(
        default=None,
        description="Why the first contact may come later than 7 days after discharge "
        "(e.g. a wound must heal first).",
    )
    first_contact_deadline: date = Field(
        description="Latest day of the kommune's first contact; at most 7 days after "
        "discharge unless `deadline_reason` says why.",
        examples=["2026-11-27"],
    )
    rehabilitation_deadline: FormattedText | None = Field(
        default=None,
        description="GGOP `RehabilitationDeadline` in words. When absent, the XML states "
        "`first_contact_deadline` and `deadline_reason`.",
    )
    information_for_patient: FormattedText | None = None
    practical_information: FormattedText | None = None
    patient_safety: FormattedText | None = None
    health_summary: FormattedText | None = None
    function_before_admission: FormattedText | None = Field(
        default=None,
        description="The patient's earlier functional ability (R7a). Required in JSON; GGOP "
        "has no element of its own for it, so XML input without it gets a warning.",
    )
    function_at_discharge: FormattedText = Field(
        description="Functional ability at discharge (R7b; GGOP `AbilityAtDischargeSummary`)."
    )
    function_at_discharge_extended: FormattedText | None = Field(
        default=None,
        validate_default=True,
        description="The patient's overall functional ability at discharge, usually by ICF "
        "heading (GGOP `AbilityAtDischargeExtended`). Required for `rehabilitering` (R8).",
    )
    rehabilitation_need: FormattedText = Field(
        description="The need for genoptræning and the limitations it is to address (R7c; "
        "GGOP `RehabilitationNeedAndPotential`); for `rehabilitering` the overall need for "
        "rehabilitation measures (R8)."
    )
    diagnoses: Diagnoses | None = None
    icf: list[IcfClassification] = Field(default_factory=list, max_length=50)
    journal_excerpts: list[JournalExcerpt] = Field(default_factory=list, max_length=20)
    contact_region: ContactAddress = Field(description="GGOP `ContactCounty` (R9).")
    contact_municipality: ContactAddress = Field(description="GGOP `ContactMunicipality` (R9).")
    care_team: list[TeamMember] = Field(default_factory=list, max_length=20)
    references: list[Reference] = Field(default_factory=list, max_length=10)

    @field_validator("level", mode="after")
    @classmethod
    def _level_only_for_almen(cls, value: Level | None, info: ValidationInfo) -> Level | None:
        # R15: basal and avanceret refine almen genoptræning; the other types have no level.
        if value is not None and info.data.get("plan_type") not in (None, PlanType.ALMEN):
            raise PydanticCustomError(
                "level_requires_almen",
                "A level (basal or avanceret) only refines an almen plan.",
            )
        return value

    @field_validator("chosen_hospital_gln", mode="after")
    @classmethod
    def _chosen_hospital_only_for_specialiseret(
        cls, value: str | None, info: ValidationInfo
    ) -> str | None:
        # R3, R11, R28: only genoptræning på specialiseret niveau takes place at a hospital;
        # the kommune delivers almen genoptræning and rehabilitering på specialiseret niveau.
        if value is not None and info.data.get("plan_type") not in (None, PlanType.SPECIALISERET):
            raise PydanticCustomError(
                "chosen_hospital_requires_specialiseret",
                "A chosen hospital belongs to a `specialiseret` plan, whose training takes place "
                "at a hospital; the kommune delivers the other plan types.",
            )
        return value

    @field_validator("function_at_discharge_extended", mode="after")
    @classmethod
    def _overall_function_for_rehabilitering(cls, value: object, info: ValidationInfo) -> object:
        # Bekendtgørelse om genoptræningsplaner §2 stk. 3 (R8): a plan for rehabilitering på
        # specialiseret niveau also describes the patient's overall functional ability and
        # overall need for rehabilitation measures at discharge. GGOP's only places for them
        # are AbilityAtDischargeExtended and RehabilitationNeedAndPotential; the latter is
        # required for every plan (R7c), so only the former can be missing.
        if (
            value is None
            and info.data.get("plan_type") == PlanType.REHABILITERING
            and not _is_stored(info)
        ):
            raise PydanticCustomError(
                "overall_function_required",
                "A plan for rehabilitering på specialiseret niveau describes the patient's "
                "overall functional ability at discharge (`function_at_discharge_extended`).",
            )
        return value

    @field_validator("consent_informed", mode="after")
    @classmethod
    def _consent_given(cls, value: bool) -> bool:
        # Bekendtgørelse om genoptræningsplaner §1 and R12: without the patient's agreement
        # the plan may not be sent to the kommune or the GP.
        if not value:
            raise PydanticCustomError(
                "consent_required",
                "The plan may only be sent with the patient's consent; record it as "
                "`consent_informed: true`.",
            )
        return value

    @field_validator("first_contact_deadline", mode="after")
    @classmethod
    def _deadline_within_seven_days(cls, value: date, info: ValidationInfo) -> date:
        discharge = info.data.get("discharge_date")
        if discharge is None:
            return value
        if value < discharge:
            raise PydanticCustomError(
                "deadline_before_discharge",
                "The first-contact deadline cannot fall before the discharge date.",
            )
        # Sundhedsloven §140 stk. 4 and R21: a later start needs a stated professional reason.
        latest = discharge + timedelta(days=START_WITHIN_DAYS)
        if value > latest and not info.data.get("deadline_reason"):
            raise PydanticCustomError(
                "deadline_reason_required",
                "The first contact must come within 7 calendar days after discharge; a later "
                "deadline needs `deadline_reason` saying why.",
            )
        return value

    @field_validator("result_receivers", "cc_receivers", mode="after")
    @classmethod
    def _each_receiver_once(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise PydanticCustomError(
                "receiver_listed_twice", "Each GLN may appear only once in this list."
            )
        return value
