"""Locate the project folders that hold non-Python files: migrations/, schemas/, xml_templates/.

In a source checkout (and an editable install) they sit next to `app/`; a built wheel carries
them inside the package under `app/_bundled/` (pyproject.toml, force-include). Imports nothing
from `app`.
"""

from pathlib import Path

__all__ = ["resource_dir"]

_PACKAGE_DIR = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """Returns the folder `name` (e.g. "migrations") of this installation."""
    bundled = _PACKAGE_DIR / "_bundled" / name
    if bundled.is_dir():
        return bundled
    return _PACKAGE_DIR.parent / name
