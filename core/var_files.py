"""Files the product creates for itself under VAR_DIR (the generated API key, the confirm-token secret).

Several processes may start together on a fresh VAR_DIR (docker-compose starts every role at once), so a file is
written whole under a private name and then linked into place: another process sees either no file or the complete
one, never an empty or half-written one, and exactly one process's content wins.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable
from pathlib import Path


def read_or_create(path: Path, make: Callable[[], str]) -> tuple[str, bool]:
    """The file's text, stripped; when there is no file, ``make()`` written with mode 0600. Returns (text,
    created_here): False also when another process created it first."""
    if path.exists():
        return path.read_text().strip(), False
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(make() + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    try:
        os.link(draft, path)  # atomic, and refused when the name exists: the first complete file wins
        created = True
    except FileExistsError:
        created = False
    finally:
        with contextlib.suppress(FileNotFoundError):
            draft.unlink()
    return path.read_text().strip(), created
