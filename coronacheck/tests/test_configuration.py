"""The configuration reference: one definition (coronacheck/configuration.py) of every setting
the service reads; docs/configuration.md is generated from it."""

from __future__ import annotations

import re
from pathlib import Path

import coronacheck.settings  # noqa: F401  (the settings are read at import)
from coronacheck import configuration

BASE = Path(__file__).resolve().parents[2]
PRODUCTION_PACKAGES = ("coronacheck", "api", "signing", "events", "common")
# Environment variables of the machinery, not settings of the service.
NOT_SETTINGS = {"DJANGO_SETTINGS_MODULE"}
ENV_READ = re.compile(
    r"""(?:os\.environ\.get|os\.getenv|os\.environ\.setdefault)\(\s*["']([A-Z][A-Z0-9_]+)["']|os\.environ\[["']([A-Z][A-Z0-9_]+)["']\]"""
)
DIRECT_ENVTOOLS = re.compile(r"""\benv_(?:str|bool|int|float|list)\(\s*["']([A-Z][A-Z0-9_]+)["']""")


def production_sources():
    for package in PRODUCTION_PACKAGES:
        for path in (BASE / package).rglob("*.py"):
            if "tests" in path.parts or "migrations" in path.parts:
                continue
            yield path, path.read_text()


def environment_reads() -> dict[str, set[str]]:
    """Names read from the environment outside the settings table, by file."""
    found: dict[str, set[str]] = {}
    for path, text in production_sources():
        names = {a or b for a, b in ENV_READ.findall(text)}
        if names:
            found[str(path.relative_to(BASE))] = names
    return found


def test_the_reference_is_generated_from_the_definition():
    expected = configuration.markdown()
    assert (BASE / "docs" / "configuration.md").read_text() == expected, (
        "docs/configuration.md is stale: python -m coronacheck.configuration > docs/configuration.md"
    )


def test_every_setting_read_is_defined():
    for path, text in production_sources():
        if path.name == "configuration.py":
            continue
        direct = DIRECT_ENVTOOLS.findall(text)
        assert not direct, f"{path}: read settings through coronacheck.configuration.read(), not env_*(): {direct}"
        for name in re.findall(r"""\bread\(\s*["']([A-Z][A-Z0-9_]+)["']""", text):
            assert name in configuration.BY_NAME, f"{path}: {name} is read but not defined"
    for path, names in environment_reads().items():
        undefined = names - set(configuration.BY_NAME) - NOT_SETTINGS
        assert not undefined, f"{path} reads {undefined} from the environment; define them in coronacheck/configuration.py"


def read_by_its_file(setting: configuration.Setting) -> bool:
    """A setting read outside settings.py: its name is in the file that `read_by` names."""
    path = BASE / setting.read_by.split()[0]
    return path.is_file() and re.search(rf"\b{setting.name}\b", path.read_text()) is not None


def test_every_defined_setting_is_read():
    never_read = {
        setting.name
        for setting in configuration.SETTINGS
        if setting.name not in configuration.READ and not (setting.read_by and read_by_its_file(setting))
    }
    assert never_read == set()


def test_a_default_is_given_in_one_place_only():
    for setting in configuration.SETTINGS:
        assert setting.description.endswith("."), setting.name
        if setting.default_text:
            assert setting.default is None, setting.name
