"""Small helpers that read settings from the environment and fail loudly on bad values."""

from __future__ import annotations

import json
import os
from pathlib import Path


class ConfigurationError(Exception):
    """A setting is missing or malformed; the message names the setting, never its value."""


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name)
    if value is None:
        if default is None:
            return ""
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ConfigurationError(f"{name} must be a boolean (true/false)")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ConfigurationError(f"{name} must be an integer") from None


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return float(value)
    except ValueError:
        raise ConfigurationError(f"{name} must be a number") from None


def parse_list(name: str, value: str) -> list[str]:
    """A JSON array of strings, or a comma-separated list (settings.md, introduction)."""
    value = value.strip()
    if value.startswith("["):
        try:
            parsed = json.loads(value)
        except ValueError:
            raise ConfigurationError(f"{name} must be a JSON array of strings") from None
        if not isinstance(parsed, list) or not all(isinstance(item, str) for item in parsed):
            raise ConfigurationError(f"{name} must be a JSON array of strings")
        return parsed
    return [item.strip() for item in value.split(",") if item.strip()]


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return list(default or [])
    return parse_list(name, value)


def secret_path(folder: str, value: str) -> str:
    """A key-file setting: absolute paths as given, relative ones inside SECRETS_FOLDER."""
    if not value:
        return ""
    if os.path.isabs(value):
        return value
    return str(Path(folder) / value)
