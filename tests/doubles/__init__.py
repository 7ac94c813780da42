"""Local stand-ins for the vendors, speaking their real wire protocols on 127.0.0.1 (tests only)."""

from pathlib import Path

FIXTURES_DIR = Path(__file__).resolve().parents[1] / "fixtures"
