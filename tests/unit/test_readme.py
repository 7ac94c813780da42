"""The README's configuration table lists exactly the settings core/settings.py reads, and the two commands."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic_settings import BaseSettings

from core.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def env_names(model: type[BaseSettings], prefix: str = "") -> set[str]:
    names: set[str] = set()
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseSettings):
            names |= env_names(annotation, str(annotation.model_config.get("env_prefix", "")))
        else:
            names.add(f"{prefix}{name}".upper())
    return names


def readme_table_names() -> set[str]:
    text = README.read_text()
    section = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for row in section.splitlines():
        if row.startswith("| `"):
            names |= set(re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1]))
    return names


def test_configuration_table_matches_settings() -> None:
    assert readme_table_names() == env_names(Settings)


def test_readme_shows_the_two_commands() -> None:
    text = README.read_text()
    assert "make run" in text
    assert "make test" in text
