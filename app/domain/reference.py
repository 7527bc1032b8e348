"""Reference data shipped with the package: the 98 kommuner and 5 regions (from
shared/data, DAWA/DAGI snapshot). Loaded on first use, then kept.
"""

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

__all__ = ["Municipality", "Region", "municipalities", "regions"]


@dataclass(frozen=True, slots=True)
class Region:
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class Municipality:
    code: str
    name: str
    region_code: str


def _rows(filename: str) -> list[dict[str, str]]:
    text = resources.files("app.data").joinpath(filename).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


@cache
def municipalities() -> dict[str, Municipality]:
    """The 98 kommuner by 3-digit kommunekode."""
    return {
        row["code"]: Municipality(row["code"], row["name"], row["region_code"])
        for row in _rows("municipalities.csv")
    }


@cache
def regions() -> dict[str, Region]:
    """The 5 regions by DAGI regionskode (1081-1085)."""
    return {row["code"]: Region(row["code"], row["name"]) for row in _rows("regions.csv")}
