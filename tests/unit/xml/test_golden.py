"""Rendered documents are byte for byte the golden files in tests/data/golden/.

They pin the exact output of the templates and the Python helpers they call (the formatted
text of app/xml/render.py), so that a change made for speed cannot change a single byte. After
an intended change to the output, regenerate them with `python -m tests.unit.xml.test_golden`
and review the diff.
"""

from collections.abc import Callable
from pathlib import Path

import pytest

from app.xml import XmlRenderer, XsdRegistry
from tests.unit.xml import test_letters as letters
from tests.unit.xml import test_render as plans

GOLDEN = Path(__file__).resolve().parents[2] / "data" / "golden"


def _documents(renderer: XmlRenderer) -> dict[str, Callable[[], bytes]]:
    full, full_parties = plans.full_plan()
    return {
        "plan-almen.ggop.xml": lambda: renderer.render_ggop(
            plans.make_plan(), envelope=plans.ENVELOPE, parties=plans.PARTIES
        ),
        "plan-full.ggop.xml": lambda: renderer.render_ggop(
            full, envelope=plans.ENVELOPE, parties=full_parties
        ),
        "plan-almen.xdis91.xml": lambda: renderer.render_plan_as_xdis91(
            plans.make_plan(), envelope=plans.ENVELOPE, parties=plans.PARTIES, receiver=plans.GP
        ),
        "plan-full.xdis91.xml": lambda: renderer.render_plan_as_xdis91(
            full, envelope=plans.ENVELOPE, parties=full_parties, receiver=plans.GP
        ),
        "letter-full.xdis91.xml": lambda: letters.render(renderer, letters.full_letter()),
    }


NAMES = [
    "plan-almen.ggop.xml",
    "plan-full.ggop.xml",
    "plan-almen.xdis91.xml",
    "plan-full.xdis91.xml",
    "letter-full.xdis91.xml",
]


@pytest.fixture(scope="module")
def renderer() -> XmlRenderer:
    return XmlRenderer(XsdRegistry())


@pytest.mark.parametrize("name", NAMES)
def test_the_rendered_document_is_the_golden_file_byte_for_byte(
    renderer: XmlRenderer, name: str
) -> None:
    documents = _documents(renderer)
    assert list(documents) == NAMES
    assert documents[name]() == (GOLDEN / name).read_bytes()


if __name__ == "__main__":
    for name, render in _documents(XmlRenderer(XsdRegistry())).items():
        (GOLDEN / name).write_bytes(render())
        print(f"wrote {GOLDEN / name}")
