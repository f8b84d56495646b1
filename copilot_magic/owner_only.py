"""Conversations are the owner's alone: every folder and file copilot_magic makes is owner-only.

A data directory holds prompts, replies and titles, so on a machine with other users
(JupyterHub, a shared server) nobody else may list or read anything in it. Whatever
copilot_magic creates is born owner-only, whatever the umask: folders 0700 (each missing
parent too, which ``mkdir(parents=True)`` would make with the umask's mode) and files 0600.
The Copilot runtime, which writes most of the data directory itself (``session-store.db``
and its ``-wal``, ``session-state/``, ``logs/``), is started with :data:`OWNER_ONLY_UMASK`,
so its files are born owner-only too. The kernel's own umask is never changed: it is one
for the whole process, and the person's code runs there.

What exists already is left as it is (a folder may be shared on purpose);
``copilot-magic doctor`` names a data directory that others can read, with the
:func:`chmod_command` that makes it owner-only.
"""

from __future__ import annotations

import os
import shlex
import stat
from pathlib import Path
from typing import IO

OWNER_ONLY_UMASK = 0o077  # for the processes that write the data directory: the runtime
FOLDER_MODE = 0o700
FILE_MODE = 0o600
OTHERS = 0o077  # the permission bits of the group and of everyone else


def private_folder(path: Path) -> Path:
    """Make the folder ``path`` and each missing parent owner-only (0700); returns ``path``.

    Folders that exist are left as they are. Raises :class:`OSError` as ``mkdir`` does (a
    file in the way is :class:`FileExistsError`); another process making one of the folders
    at the same moment is fine.
    """
    missing: list[Path] = []
    for folder in (path, *path.parents):
        if folder.is_dir():
            break
        missing.append(folder)
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=FOLDER_MODE)  # the umask can take bits away, never add them
        except FileExistsError:
            if not folder.is_dir():
                raise
    return path


def private_file(path: Path, mode: str = "w") -> IO[str]:
    """``path`` opened as text for writing (``"w"``) or appending (``"a"``); a file it
    creates is owner-only (0600). An existing file keeps its mode."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if mode == "a" else os.O_TRUNC)
    return os.fdopen(os.open(path, flags, FILE_MODE), mode, encoding="utf-8")


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path``, which is owner-only if this creates it."""
    with private_file(path) as out:
        out.write(text)


def open_to_others(root: Path) -> list[tuple[Path, int]]:
    """Every path in ``root`` (and ``root`` itself) with a permission for the group or for
    everyone else, with its mode; symbolic links aside (their own mode means nothing), and
    nothing when ``root`` does not exist."""
    found: list[tuple[Path, int]] = []

    def look(path: Path) -> None:
        try:
            mode = path.lstat().st_mode
        except OSError:  # gone meanwhile
            return
        if not stat.S_ISLNK(mode) and mode & OTHERS:
            found.append((path, mode))

    look(root)
    for folder, folders, files in os.walk(root):
        for name in (*folders, *files):
            look(Path(folder, name))
    return found


def chmod_command(root: Path) -> str:
    """The command that makes ``root`` and everything in it owner-only."""
    return f"chmod -R go-rwx {shlex.quote(str(root))}"
