"""The repository builds and tests on its own: no tracked file reaches outside it for recordings or code."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# A path that climbs out of the repository into a sibling folder named `shared`.
OUTSIDE = re.compile(r"\.\./shared\b|parents\[\d+\]\s*/\s*[\"']shared[\"']")
TEXT_SUFFIXES = {".py", ".toml", ".cfg", ".ini", ".sh", ".yml", ".yaml", ".json", ".jsonl", ".js", ".html", ".md",
                 ".txt", ".lock", ""}


def tracked_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    return [ROOT / name for name in listed.decode().split("\0") if name]


def test_no_tracked_file_names_a_folder_outside_the_repository() -> None:
    offenders = [str(path.relative_to(ROOT)) for path in tracked_files()
                 if path.suffix in TEXT_SUFFIXES and path.is_file() and path.name != "CHANGELOG.md"
                 and OUTSIDE.search(path.read_text(errors="replace"))]
    assert offenders == []


def test_every_recording_is_in_the_repository_and_named_in_its_readme() -> None:
    fixtures = ROOT / "tests" / "fixtures"
    for vendor in ("polygon", "tradier"):
        readme = (fixtures / vendor / "README.md").read_text()
        recordings = [path.name for path in (fixtures / vendor).iterdir() if path.name != "README.md"]
        assert recordings, f"no recordings under tests/fixtures/{vendor}"
        unnamed = [name for name in recordings if name not in readme]
        assert unnamed == [], f"tests/fixtures/{vendor}/README.md does not name the source of {unnamed}"
