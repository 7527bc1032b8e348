"""XSD validation: MedCom's public examples are valid, broken documents are named by element path,
and threads never see each other's errors (architecture.md, Known traps)."""

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from lxml import etree

from app.xml import XmlIssue, XsdRegistry

ROOT = Path(__file__).resolve().parents[3]
MEDCOM = ROOT / "tests" / "data" / "medcom"
# Kept as bytes: UTF-8 with a BOM and an xml-stylesheet PI, exactly as MedCom published it.
GGOP_EXAMPLE = (MEDCOM / "ggop-genoptraeningsplan-GGOP100-ns1.0.4-example.xml").read_bytes()
XDIS91_EXAMPLES = sorted(path.name for path in MEDCOM.glob("xdis91-*.xml"))
RECEIPT_EXAMPLES = sorted(path.name for path in MEDCOM.glob("xctl0*.xml"))

PLAN = "/Emessage/RehabilitationPlan"


def ggop_with(old: str, new: str) -> bytes:
    """The GGOP example with the one occurrence of `old` replaced by `new`."""
    before, after = old.encode(), new.encode()
    assert GGOP_EXAMPLE.count(before) == 1, f"{old!r} is not in the example exactly once"
    return GGOP_EXAMPLE.replace(before, after)


def element_text(name: str) -> str:
    """The GGOP example's one element `name`, start tag to end tag, as text."""
    found = re.findall(rf"<{name}[ >].*?</{name}>", GGOP_EXAMPLE.decode(), re.S)
    assert len(found) == 1, f"{name} is not in the example exactly once"
    return str(found[0])


def paths(issues: list[XmlIssue]) -> list[str]:
    """The element path of each issue."""
    return [issue.path for issue in issues]


@pytest.fixture
def registry() -> XsdRegistry:
    return XsdRegistry()


class TestValidateGgop:
    def test_the_public_example_is_valid_as_published(self, registry: XsdRegistry) -> None:
        assert registry.validate("ggop", GGOP_EXAMPLE) == []

    def test_the_public_example_is_valid_as_a_parsed_tree(self, registry: XsdRegistry) -> None:
        tree = etree.ElementTree(etree.fromstring(GGOP_EXAMPLE))

        assert registry.validate("ggop", tree) == []

    @pytest.mark.parametrize(
        ("old", "new"),
        [
            pytest.param(
                "<TypeCode>GGOP</TypeCode>",
                "<TypeCode>GGOP</TypeCode><EpisodeOfCareIdentifier>"
                "8a2c0a6bb5e34c5c9d0f3a1e2b4c6d8e</EpisodeOfCareIdentifier>",
                id="Letter/EpisodeOfCareIdentifier",
            ),
            pytest.param(
                element_text("GPCCReceiver"),
                "<GPCCReceiver><Deselected/></GPCCReceiver>",
                id="GPCCReceiver/Deselected",
            ),
            pytest.param(
                "<mm100:CivilRegistrationNumber>2512484916</mm100:CivilRegistrationNumber>",
                "<mm100:AlternativeIdentifier>0703921VJ5</mm100:AlternativeIdentifier>",
                id="Patient/AlternativeIdentifier",
            ),
            pytest.param(
                "<EmailAddressIdentifier>nancy@berggren.dk</EmailAddressIdentifier>",
                "<NoTelephoneReason>Ønsker ikke at oplyse</NoTelephoneReason>"
                "<EmailAddressIdentifier>nancy@berggren.dk</EmailAddressIdentifier>",
                id="Patient/NoTelephoneReason",
            ),
            pytest.param(
                element_text("ExpectedEnd"),
                "<ExpectedEndText>Ukendt</ExpectedEndText>",
                id="CurrentHospitalContact/ExpectedEndText",
            ),
            pytest.param(
                element_text("ExpectedStart"),
                "<ExpectedStartText>Efter aftale</ExpectedStartText>",
                id="HospitalAmbulatoryControl/ExpectedStartText",
            ),
        ],
    )
    def test_an_element_formats_md_names_but_the_example_lacks_is_valid(
        self, registry: XsdRegistry, old: str, new: str
    ) -> None:
        assert registry.validate("ggop", ggop_with(old, new)) == []

    @pytest.mark.parametrize(
        ("old", "new", "path"),
        [
            pytest.param(
                "<VersionCode>GGOP100</VersionCode>",
                "<VersionCode>GGOP101</VersionCode>",
                f"{PLAN}/Letter/VersionCode",
                id="wrong VersionCode",
            ),
            pytest.param(
                "<VersionCode>GGOP100</VersionCode>\n"
                "            <StatisticalCode>GGOP2</StatisticalCode>",
                "<StatisticalCode>GGOP2</StatisticalCode>\n"
                "            <VersionCode>GGOP100</VersionCode>",
                f"{PLAN}/Letter/StatisticalCode",
                id="elements out of order",
            ),
            pytest.param(
                "<mm100:Occupation>Tømrer</mm100:Occupation>",
                "<mm100:Occupation>Tømrer</mm100:Occupation><Nickname>Nanna</Nickname>",
                f"{PLAN}/Patient/Nickname",
                id="unknown element",
            ),
            pytest.param(
                "<mm100:CivilRegistrationNumber>2512484916<",
                "<mm100:CivilRegistrationNumber>251248491<",
                f"{PLAN}/Patient/CivilRegistrationNumber",
                id="CPR of 9 digits",
            ),
            pytest.param(
                "<mm100:CivilRegistrationNumber>2512484916</mm100:CivilRegistrationNumber>",
                "<CivilRegistrationNumber>2512484916</CivilRegistrationNumber>",
                f"{PLAN}/Patient/CivilRegistrationNumber",
                id="CPR in the 1.0.4 namespace instead of 1.0.0",
            ),
            pytest.param(
                "<Identifier>45249877239313</Identifier>",
                "<Identifier>452498772393131</Identifier>",
                f"{PLAN}/Letter/Identifier",
                id="letter Identifier of 15 characters",
            ),
            pytest.param(
                element_text("ResultReceiver"),
                element_text("ResultReceiver") * 6,
                f"{PLAN}/FinalResult/ResultReceiver[6]",
                id="six ResultReceivers",
            ),
        ],
    )
    def test_an_invalid_document_is_reported_at_the_offending_element(
        self, registry: XsdRegistry, old: str, new: str, path: str
    ) -> None:
        issues = registry.validate("ggop", ggop_with(old, new))

        assert paths(issues) == [path]

    def test_five_result_receivers_are_valid(self, registry: XsdRegistry) -> None:
        # The example's comment "Gentages 5x".
        five = ggop_with(element_text("ResultReceiver"), element_text("ResultReceiver") * 5)

        assert registry.validate("ggop", five) == []

    def test_the_schema_works_from_any_folder(self, tmp_path: Path) -> None:
        # Its import of municipality-1.0.0.xsd is relative to the importing file.
        for xsd in (ROOT / "schemas" / "ggop").glob("*.xsd"):
            (tmp_path / xsd.name).write_bytes(xsd.read_bytes())
        schema = etree.XMLSchema(file=str(tmp_path / "municipality-1.0.4.xsd"))

        assert schema.validate(etree.fromstring(GGOP_EXAMPLE))

    def test_a_fragment_of_a_ggop_is_not_a_ggop(self, registry: XsdRegistry) -> None:
        # mm100:Envelope is a global element of the 1.0.0 schema, so the XSD alone accepts it.
        envelope = element_text("Envelope").encode()

        issues = registry.validate("ggop", envelope)

        assert paths(issues) == ["/Envelope"]


class TestValidateMedcom:
    @pytest.mark.parametrize("name", XDIS91_EXAMPLES)
    def test_a_public_xdis91_example_is_valid(self, registry: XsdRegistry, name: str) -> None:
        assert registry.validate("xdis91", (MEDCOM / name).read_bytes()) == []

    @pytest.mark.parametrize("name", RECEIPT_EXAMPLES)
    def test_a_public_receipt_example_is_valid(self, registry: XsdRegistry, name: str) -> None:
        assert registry.validate("receipt", (MEDCOM / name).read_bytes()) == []

    def test_an_xdis90_is_not_an_xdis91(self, registry: XsdRegistry) -> None:
        # Named DIS91_3 at the source, but an AdministrativeEmail in the 2009/08/01 namespace.
        xdis90 = (MEDCOM / "xdis90-XD9034L-administrativeemail-DIS91_3.xml").read_bytes()

        assert paths(registry.validate("xdis91", xdis90)) == ["/Emessage"]

    def test_a_receipt_is_not_an_xdis91(self, registry: XsdRegistry) -> None:
        receipt = (MEDCOM / RECEIPT_EXAMPLES[0]).read_bytes()

        assert paths(registry.validate("xdis91", receipt)) == ["/Emessage"]


class TestValidateUntrustedInput:
    def test_bytes_that_are_not_xml_give_one_issue(self, registry: XsdRegistry) -> None:
        issues = registry.validate("ggop", b"<Emessage><Envelope></Emessage>")

        assert len(issues) == 1
        assert issues[0].path == ""
        assert issues[0].message.startswith("Not well-formed XML")

    def test_a_doctype_is_refused(self, registry: XsdRegistry, tmp_path: Path) -> None:
        secret = tmp_path / "cpr.txt"
        secret.write_text("2512484916")  # an entity that would make the document valid
        document = ggop_with(
            "<Emessage ",
            f'<!DOCTYPE Emessage [<!ENTITY cpr SYSTEM "{secret.as_uri()}">]>\n<Emessage ',
        ).replace(b">2512484916<", b">&cpr;<")

        issues = registry.validate("ggop", document)

        assert issues == [XmlIssue("", "A DOCTYPE is not allowed in a MedCom document.")]

    def test_a_tree_libxml2_cannot_validate_gives_an_issue(self, registry: XsdRegistry) -> None:
        root = etree.fromstring(GGOP_EXAMPLE)
        cpr = root.find(".//{urn:oio:medcom:municipality:1.0.0}CivilRegistrationNumber")
        cpr.text = None
        cpr.append(etree.Entity("cpr"))  # an unexpanded entity reference

        issues = registry.validate("ggop", root)

        assert paths(issues) == [""]
        assert issues[0].message.startswith("Could not be validated")


class TestSchemasPerThread:
    def test_concurrent_threads_each_see_only_their_own_errors(self, registry: XsdRegistry) -> None:
        documents = {
            "cpr": ggop_with(">2512484916<", ">251248491<"),
            "version": ggop_with(">GGOP100<", ">GGOP101<"),
        }
        expected = {key: registry.validate("ggop", document) for key, document in documents.items()}
        barrier = threading.Barrier(len(documents))

        def validate_repeatedly(key: str) -> list[list[XmlIssue]]:
            tree = etree.fromstring(documents[key])
            seen = []
            for _ in range(200):
                barrier.wait(timeout=10)  # start each round together, so validations overlap
                seen.append(registry.validate("ggop", tree))
            return seen

        with ThreadPoolExecutor(max_workers=len(documents)) as pool:
            seen_by_key = dict(
                zip(documents, pool.map(validate_repeatedly, documents), strict=True)
            )

        for key, seen in seen_by_key.items():
            assert [issues for issues in seen if issues != expected[key]] == [], key

    def test_constructing_a_registry_compiles_nothing(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        compiled = count_compilations(monkeypatch)

        XsdRegistry()

        assert compiled == []

    def test_a_thread_compiles_a_schema_on_first_use_only(
        self, registry: XsdRegistry, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        compiled = count_compilations(monkeypatch)

        for _ in range(3):
            registry.validate("ggop", GGOP_EXAMPLE)

        assert compiled == [threading.current_thread().name]

    def test_a_thread_reuses_its_compiled_schema(self, registry: XsdRegistry) -> None:
        assert registry.schema("xdis91") is registry.schema("xdis91")

    def test_each_thread_has_its_own_compiled_schema(self, registry: XsdRegistry) -> None:
        with ThreadPoolExecutor(max_workers=1) as pool:
            other_threads = pool.submit(registry.schema, "ggop").result()

        assert registry.schema("ggop") is not other_threads


def count_compilations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """From now on, the name of the thread of each XSD compilation, in order."""
    compiled: list[str] = []
    compile_xsd = etree.XMLSchema

    def counting(*args: object, **kwargs: object) -> object:
        compiled.append(threading.current_thread().name)
        return compile_xsd(*args, **kwargs)

    monkeypatch.setattr(etree, "XMLSchema", counting)
    return compiled
