"""A second Unix user on this machine, for what other people on a shared host can see or do.

The tests that need one create it (as root, with ``useradd``) and run commands as it. Where
the tests do not run as root they are skipped with a reason that says so (pytest's ``-ra``
prints it): creating a user and running as another one need root.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pwd
import struct
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

OTHER_USER = "cm-other"


def other_user() -> pwd.struct_passwd:
    """The second user (created on first use); skips the test where it cannot be root."""
    if os.geteuid() != 0:
        pytest.skip("needs root: it creates a second Unix user and runs commands as that user")
    _create_once(OTHER_USER, ["--no-create-home", "--shell", "/usr/sbin/nologin"])
    return pwd.getpwnam(OTHER_USER)


@contextlib.contextmanager
def _users_locked() -> Iterator[None]:
    """One change to the machine's users at a time: tests in other worker processes may
    change users at the same moment, and ``useradd`` fails while another holds the lock of
    /etc/passwd."""
    with open(Path(tempfile.gettempdir(), "copilot-magic-tests-users.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _create_once(name: str, options: list[str]) -> None:
    """Create the user ``name`` unless it exists."""
    with _users_locked():
        try:
            pwd.getpwnam(name)
        except KeyError:
            subprocess.run(["useradd", *options, name], check=True, capture_output=True)


def unix_user(name: str, home: Path) -> pwd.struct_passwd:
    """The user ``name`` (created on first use), its home set to ``home``, a fresh folder it
    owns that others may enter (0755, as on many shared hosts: what another user can read
    below it depends only on what is created there). Skips the test where it cannot be root.
    The caller removes ``home``; the user stays for later runs."""
    if os.geteuid() != 0:
        pytest.skip("needs root: it creates Unix users and runs commands as them")
    _create_once(name, ["--no-create-home", "--home-dir", str(home), "--shell", "/bin/sh"])
    with _users_locked():
        subprocess.run(["usermod", "--home", str(home), name], check=True, capture_output=True)
    user = pwd.getpwnam(name)
    home.mkdir(mode=0o755)
    home.chmod(0o755)
    os.chown(home, user.pw_uid, user.pw_gid)
    return user


def as_user(
    user: pwd.struct_passwd, args: Sequence[str], **options: Any
) -> subprocess.CompletedProcess[str]:
    """``args`` run as ``user`` (its own uid and group, no supplementary groups)."""
    return subprocess.run(
        list(args),
        user=user.pw_uid,
        group=user.pw_gid,
        extra_groups=[],
        capture_output=True,
        text=True,
        check=False,
        cwd="/",
        **options,
    )


def as_other_user(args: Sequence[str], **options: Any) -> subprocess.CompletedProcess[str]:
    """``args`` run as the second user (its own uid and group, no supplementary groups)."""
    return as_user(other_user(), args, **options)


# Runs as root, imports what the code needs, becomes the other user, then runs the code.
_AS_OTHER_USER = """\
import os, sys
for name in sys.argv[4].split(","):
    __import__(name)
os.setgroups([])
os.setgid(int(sys.argv[2]))
os.setuid(int(sys.argv[1]))
exec(compile(sys.argv[3], "<as the other user>", "exec"), {"__name__": "__main__"})
"""


def python_as_other_user(
    code: str, imports: Sequence[str] = (), **options: Any
) -> subprocess.Popen[str]:
    """Python ``code`` running as the second user, in the background (its uid and group, no
    supplementary groups). This interpreter lives where only root may enter, so it starts as
    root and becomes that user before ``code`` runs: the modules ``code`` imports are named
    in ``imports`` and imported first. ``options`` go to :class:`subprocess.Popen`."""
    user = other_user()
    modules = ",".join(["os", *imports])
    return subprocess.Popen(
        [sys.executable, "-c", _AS_OTHER_USER, str(user.pw_uid), str(user.pw_gid), code, modules],
        text=True,
        cwd="/",
        **options,
    )


def open_parent() -> Path:
    """A folder that every user may enter (0755), outside pytest's own owner-only temporary
    folders, so that what another user can read depends only on what the project creates
    below it. The caller removes it."""
    parent = Path(tempfile.mkdtemp(prefix="cm-shared-host-"))
    parent.chmod(0o755)
    return parent


# -- letting users through closed folders ----------------------------------------------------
ACL_XATTR = "system.posix_acl_access"
ACL_VERSION = 2
USER_OBJ, USER, GROUP_OBJ, GROUP, MASK, OTHER = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
NO_ID = 0xFFFFFFFF
EXECUTE = 0o1


def _acl_entries(path: Path) -> list[tuple[int, int, int]]:
    """The access ACL of ``path`` as (tag, permissions, id) entries (its mode if it has none)."""
    try:
        blob = os.getxattr(path, ACL_XATTR)
    except OSError:
        mode = path.stat().st_mode
        return [
            (USER_OBJ, mode >> 6 & 7, NO_ID),
            (GROUP_OBJ, mode >> 3 & 7, NO_ID),
            (OTHER, mode & 7, NO_ID),
        ]
    return [struct.unpack_from("<HHI", blob, at) for at in range(4, len(blob), 8)]


def _with_users_passing(path: Path, uids: Iterable[int]) -> bytes:
    """The ACL of ``path`` plus search (x) permission for ``uids``, mask widened to match."""
    entries = [e for e in _acl_entries(path) if e[0] != MASK]
    named = {uid for tag, _, uid in entries if tag == USER}
    entries += [(USER, EXECUTE, uid) for uid in uids if uid not in named]
    mask = 0
    for tag, permissions, _ in entries:
        if tag in (USER, GROUP_OBJ, GROUP):
            mask |= permissions
    entries.append((MASK, mask | EXECUTE, NO_ID))
    entries.sort(key=lambda entry: (entry[0], entry[2]))
    return struct.pack("<I", ACL_VERSION) + b"".join(struct.pack("<HHI", *e) for e in entries)


def closed_folders(paths: Iterable[str | Path]) -> list[Path]:
    """The folders on the way to ``paths`` that other users may not pass (no o+x)."""
    closed: list[Path] = []
    for path in paths:
        real = Path(os.path.realpath(path))
        for folder in reversed([real, *real.parents] if real.is_dir() else list(real.parents)):
            if not folder.stat().st_mode & EXECUTE and folder not in closed:
                closed.append(folder)
    return closed


@contextlib.contextmanager
def let_through(paths: Iterable[str | Path], users: Iterable[pwd.struct_passwd]) -> Iterator[None]:
    """Let ``users`` (and nobody else) pass every closed folder on the way to ``paths``, with
    an ACL entry giving them search permission only (not listing), taken away afterwards.

    The tests' Python may live in root's home (0700, as pyenv installs it), which the users
    a test creates could not reach otherwise; their own folders and files stay as they are.
    """
    uids = [user.pw_uid for user in users]
    changed: list[tuple[Path, int, bytes | None]] = []
    try:
        for folder in closed_folders(paths):
            mode = folder.stat().st_mode
            try:
                before: bytes | None = os.getxattr(folder, ACL_XATTR)
            except OSError:
                before = None
            os.setxattr(folder, ACL_XATTR, _with_users_passing(folder, uids))
            changed.append((folder, mode, before))
        yield
    finally:
        for folder, mode, before in reversed(changed):
            if before is None:
                with contextlib.suppress(OSError):
                    os.removexattr(folder, ACL_XATTR)
            else:
                os.setxattr(folder, ACL_XATTR, before)
            os.chmod(folder, mode & 0o7777)
