"""Room on the disk for the next turn, and what a failed write means to a person.

The runtime does not report a full disk: it keeps the turn's events in memory,
retries writing them, and sends nothing more, so a reply would wait for the
timeout and could be lost with the kernel. So the free space is checked before
a turn, and again while the runtime is silent during one.
"""

from __future__ import annotations

import errno
import shutil
import tempfile
from pathlib import Path

from copilot_magic.errors import Advice, DataDirUnwritable, DiskFull, Remedy
from copilot_magic.owner_only import private_folder

# Measured with the pinned runtime: one turn with a 30 KB prompt takes about
# 390 KB of disk (the history line, the runtime's database and its search index).
BYTES_PER_PROMPT_BYTE = 16
MARGIN = 512 * 1024  # for the reply and the runtime's own records
NEARLY_FULL = 64 * 1024  # below this the runtime's writes fail


def free_bytes(folder: Path) -> int | None:
    """Free space on the disk holding ``folder`` (or its nearest existing parent)."""
    for candidate in (folder, *folder.parents):
        try:
            return shutil.disk_usage(candidate).free
        except OSError:
            continue
    return None


def needed_for(prompt: str) -> int:
    """About how much disk a turn with ``prompt`` takes."""
    return BYTES_PER_PROMPT_BYTE * len(prompt.encode("utf-8", "surrogatepass")) + MARGIN


def _size(count: int) -> str:
    return f"{count / 1024:,.0f} KB" if count < 1024 * 1024 else f"{count / 1024**2:,.1f} MB"


def disk_full(folder: Path, free: int | None, needed: int | None = None) -> DiskFull:
    need = f"; a turn this size needs about {_size(needed)}" if needed else ""
    return DiskFull(
        f"The disk holding {folder} is full ({_size(free or 0)} free{need}), so nothing "
        "was sent: free some space (or set COPILOT_HOME to a folder on another disk) and "
        "run the cell again. Every stored turn is kept."
    )


def require_room(folder: Path, needed: int) -> None:
    """Raise :class:`DiskFull` unless ``needed`` bytes are free on ``folder``'s disk."""
    free = free_bytes(folder)
    if free is not None and free < needed:
        raise disk_full(folder, free, needed)


def ensure_room(folders: list[Path], needed: int) -> None:
    """Raise :class:`DataDirUnwritable` unless a turn could be stored in ``folders``.

    The runtime reports neither a read-only data directory nor a full disk: it
    takes the prompt and then waits. So write a byte into a nameless file in
    each folder first, and check that ``needed`` bytes are free (:class:`DiskFull`).
    """
    for folder in folders:
        try:
            with tempfile.TemporaryFile(dir=private_folder(folder)) as probe:
                probe.write(b"\n")
                probe.flush()
        except OSError as error:
            raise storage_error(error, folder) from None
    require_room(folders[0], needed)


def nearly_full(folder: Path, below: int = NEARLY_FULL) -> bool:
    """Whether less than ``below`` bytes are free on ``folder``'s disk."""
    free = free_bytes(folder)
    return free is not None and free < below


def full_during_turn(folder: Path, *, shown: bool = False) -> DiskFull:
    """A full disk noticed during a turn (``shown``: after its reply was shown)."""
    what = (
        "the reply above is shown but is not stored whole"
        if shown
        else "the runtime cannot store this turn, so the reply was stopped"
    )
    return DiskFull(
        f"The disk holding {folder} is full ({_size(free_bytes(folder) or 0)} free): "
        f"{what}. Free some space and run the cell again; the turns before it are stored."
    )


def storage_error(error: OSError, folder: Path) -> DataDirUnwritable:
    """What a failed write in the data directory means, in one line."""
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return disk_full(folder, free_bytes(folder))
    return DataDirUnwritable(
        f"Cannot write to {folder} ({error.strerror or error}), so no turn could be stored "
        "(reading sessions still works): point the data_dir setting at a writable folder.",
        advice=Advice(Remedy.SET_SETTING, setting="data_dir"),
    )
