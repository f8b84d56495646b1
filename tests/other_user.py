"""A second Unix user on this machine, for what other people on a shared host can see or do.

The tests that need one create it (as root, with ``useradd``) and run commands as it. Where
the tests do not run as root they are skipped with a reason that says so (pytest's ``-ra``
prints it): creating a user and running as another one need root.
"""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

OTHER_USER = "cm-other"


def other_user() -> pwd.struct_passwd:
    """The second user (created on first use); skips the test where it cannot be root."""
    if os.geteuid() != 0:
        pytest.skip("needs root: it creates a second Unix user and runs commands as that user")
    try:
        return pwd.getpwnam(OTHER_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", OTHER_USER],
            check=True,
            capture_output=True,
        )
    return pwd.getpwnam(OTHER_USER)


def as_other_user(args: Sequence[str], **options: Any) -> subprocess.CompletedProcess[str]:
    """``args`` run as the second user (its own uid and group, no supplementary groups)."""
    user = other_user()
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
