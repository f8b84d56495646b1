"""Whose socket is at a runtime's address, proven before anything is sent to it.

A served runtime's token proves a kernel to the runtime, never the runtime to the
kernel: whatever listens at the address a kernel connects to receives the token, the
provider's key and every prompt. So for an address of this machine nothing is sent
until the socket on the other side is shown to be the person's own (the user id of
this process): first the sockets listening at that address, before connecting
(:func:`port_owner`); then, on the connected socket itself and before its first
byte, the socket that accepted the connection (:func:`vet_connection`), so that a
port taken over in between is caught too.

Linux lists every TCP socket of the network namespace, with its owner's user id, in
``/proc/net/tcp`` and ``/proc/net/tcp6``, readable by every user. Where the system
lists no such thing (not Linux), the proof is that one of the person's own processes
listens there. An address of another machine cannot be proven this way: it is used
only with a token the person gave (see :mod:`~copilot_magic.runtime.served`).
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import socket
import struct
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import psutil

from copilot_magic.errors import Advice, Remedy, RuntimeNotYours

IP = ipaddress.IPv4Address | ipaddress.IPv6Address
Endpoint = tuple[IP, int]
PROC_NET = (Path("/proc/net/tcp"), Path("/proc/net/tcp6"))
LISTEN = 0x0A  # the state column of a listening socket
PROBE_TIMEOUT = 0.5  # seconds, where only a connection can tell whether something listens

Owner = Literal["mine", "nobody", "another machine", "another process"]
MINE: Owner = "mine"
NOBODY: Owner = "nobody"
ELSEWHERE: Owner = "another machine"
ANOTHER_PROCESS: Owner = "another process"  # this user's, not the process it should be


@dataclass(frozen=True)
class TcpSocket:
    """One socket of ``/proc/net/tcp`` or ``/proc/net/tcp6``."""

    local: Endpoint
    remote: Endpoint
    state: int
    uid: int
    inode: int = 0


def _plain(ip: IP) -> IP:
    """An IPv4 address written as IPv6 (``::ffff:127.0.0.1``) as the IPv4 address it is."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _ip(text: str) -> IP:
    return _plain(ipaddress.ip_address(text.partition("%")[0]))  # without an IPv6 zone


def _endpoint(text: str, byteorder: str) -> Endpoint:
    """``0100007F:A028`` as (127.0.0.1, 41000): the kernel writes each 32-bit word of the
    address as a number in the machine's byte order, and the port as a number."""
    address, port = text.split(":")
    form = "<I" if byteorder == "little" else ">I"
    words = [int(address[i : i + 8], 16) for i in range(0, len(address), 8)]
    return _plain(ipaddress.ip_address(b"".join(struct.pack(form, w) for w in words))), int(
        port, 16
    )


def parse_proc_net(text: str, byteorder: str = sys.byteorder) -> list[TcpSocket]:
    """The sockets a ``/proc/net/tcp`` or ``tcp6`` lists; its heading, and any line that
    does not read as a socket, are left out."""
    found = []
    for line in text.splitlines()[1:]:
        fields = line.split()
        with contextlib.suppress(ValueError, IndexError, struct.error):
            local, remote = _endpoint(fields[1], byteorder), _endpoint(fields[2], byteorder)
            state, uid, inode = int(fields[3], 16), int(fields[7]), int(fields[9])
            found.append(TcpSocket(local, remote, state, uid, inode))
    return found


def system_sockets() -> list[TcpSocket] | None:
    """Every TCP socket of this network namespace with its owner, or ``None`` where the
    system does not list them (not Linux)."""
    found: list[TcpSocket] = []
    listed = False
    for path in PROC_NET:
        try:
            text = path.read_text()
        except OSError:
            continue  # no IPv6 here
        listed = True
        found += parse_proc_net(text)
    return found if listed else None


def _interface_addresses() -> set[IP]:
    found: set[IP] = set()
    with contextlib.suppress(OSError):
        for addresses in psutil.net_if_addrs().values():
            for address in addresses:
                if address.family in (socket.AF_INET, socket.AF_INET6):
                    with contextlib.suppress(ValueError):
                        found.add(_ip(address.address))
    return found


def _is_local(ip: IP) -> bool:
    return ip.is_loopback or ip.is_unspecified or ip in _interface_addresses()


def on_this_machine(host: str) -> list[IP]:
    """The addresses ``host`` names that are this machine's (loopback, or one of its
    interfaces'); none for another machine, or for a name that does not resolve."""
    try:
        named = {_ip(host.strip("[]"))}
    except ValueError:  # a name
        try:
            infos = socket.getaddrinfo(host.strip("[]"), None, type=socket.SOCK_STREAM)
            named = {_ip(str(info[4][0])) for info in infos}
        except (OSError, UnicodeError, ValueError):
            return []
    return sorted((ip for ip in named if _is_local(ip)), key=str)


def _accepts(bound: IP, target: IP) -> bool:
    """Whether a socket bound to ``bound`` takes connections made to ``target``."""
    if bound == target:
        return True
    return bound.is_unspecified and bound.version in (target.version, 6)  # "::" takes IPv4 too


def listening_at(sockets: Iterable[TcpSocket], ips: Iterable[IP], port: int) -> list[TcpSocket]:
    """The listening sockets among ``sockets`` that take connections to ``port`` of ``ips``."""
    targets = list(ips)
    return [
        s
        for s in sockets
        if s.state == LISTEN
        and s.local[1] == port
        and any(_accepts(s.local[0], t) for t in targets)
    ]


def user_name(uid: int) -> str:
    """The name of the user ``uid``, or ``""`` when it has none."""
    try:
        import pwd

        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        return ""


def not_yours(address: str, uid: int) -> RuntimeNotYours:
    """The one line for a port that another user's socket holds."""
    name = user_name(uid)
    owner = f"{name} (uid {uid})" if name else f"uid {uid}"
    return RuntimeNotYours(
        f"The port {address} belongs to another user, {owner}, not to you: nothing was sent "
        "to it (no token, key or prompt). Point the runtime setting at a runtime of your "
        "own, or set it to shared or own.",
        advice=Advice(Remedy.SET_SETTING, setting="runtime"),
    )


def _unproven(address: str) -> RuntimeNotYours:
    return RuntimeNotYours(
        f"What listens at {address} is not a process of yours (this system does not tell "
        "whose it is): nothing was sent to it (no token, key or prompt). Point the "
        "runtime setting at a runtime of your own, or set it to shared or own.",
        advice=Advice(Remedy.SET_SETTING, setting="runtime"),
    )


def _split(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host, int(port)


def port_owner(address: str, holder: int = 0) -> Owner:
    """Whose socket listens at ``address`` (HOST:PORT): :data:`MINE` when every one there
    is this user's, :data:`NOBODY` when none listens, :data:`ELSEWHERE` for an address of
    another machine (nothing can be proven there). With ``holder``, :data:`MINE` also
    needs process ``holder``, or one it started, to hold one of them; else the answer is
    :data:`ANOTHER_PROCESS`.

    Raises :class:`~copilot_magic.errors.RuntimeNotYours`, one line naming the port and
    its owner, when one is another user's (where the system does not tell, when it is
    not one of this user's processes).
    """
    host, port = _split(address)
    ips = on_this_machine(host)
    if not ips:
        return ELSEWHERE
    sockets = system_sockets()
    if sockets is None:
        if _mine_listening(ips, port):
            return MINE if not holder or held_by(holder, port) else ANOTHER_PROCESS
        if not _anything_listens(host, port):
            return NOBODY
        raise _unproven(address)
    listening = listening_at(sockets, ips, port)
    owners = {s.uid for s in listening}
    others = sorted(owners - {os.geteuid()})
    if others:
        raise not_yours(address, others[0])
    if not owners:
        return NOBODY
    if holder and not _socket_inodes(holder) & {s.inode for s in listening}:
        return ANOTHER_PROCESS
    return MINE


def vet_connection(connected: socket.socket) -> None:
    """Raise :class:`~copilot_magic.errors.RuntimeNotYours` unless the other end of the
    ``connected`` socket, when it is on this machine, is this user's. Called before
    anything is sent on it.

    On Linux that end is the socket that accepted the connection; it belongs to the
    owner of the socket that listened (it is listed even before it is accepted). Should
    it not be found, the sockets listening at that address answer for it.
    """
    peer_host, peer_port = connected.getpeername()[:2]
    own_host, own_port = connected.getsockname()[:2]
    peer, own = _ip(str(peer_host)), _ip(str(own_host))
    address = f"{peer}:{peer_port}" if peer.version == 4 else f"[{peer}]:{peer_port}"
    if not _is_local(peer):
        return  # another machine's: the person gave its address and its token
    sockets = system_sockets()
    if sockets is None:
        if not _mine_listening([peer], peer_port):
            raise _unproven(address)
        return
    accepting = [s for s in sockets if s.local == (peer, peer_port) and s.remote == (own, own_port)]
    owners = {s.uid for s in accepting or listening_at(sockets, [peer], peer_port)}
    others = sorted(owners - {os.geteuid()})
    if others:
        raise not_yours(address, others[0])
    if not owners:
        raise _unproven(address)


# -- processes that listen: the proof where the system lists no sockets' owners, and the
# -- proof that a runtime's recorded process holds its port ---------------------------------
def _listens(process: psutil.Process, port: int, ips: Iterable[IP] | None = None) -> bool:
    """Whether ``process`` listens on ``port`` (of one of ``ips``, if given)."""
    try:
        connections = process.net_connections(kind="inet")
    except psutil.Error:
        return False
    for connection in connections:
        if connection.status != psutil.CONN_LISTEN or not connection.laddr:
            continue
        bound_ip, bound_port = connection.laddr[0], connection.laddr[1]
        if bound_port == port and (ips is None or any(_accepts(_ip(bound_ip), t) for t in ips)):
            return True
    return False


def _socket_inodes(pid: int) -> set[int]:
    """The sockets (their inodes) that process ``pid`` and those it started have open."""
    found = set()
    try:
        family = [pid, *(child.pid for child in psutil.Process(pid).children(recursive=True))]
    except psutil.Error:
        return set()
    for member in family:
        with contextlib.suppress(OSError):
            for descriptor in os.scandir(f"/proc/{member}/fd"):
                with contextlib.suppress(OSError):
                    target = os.readlink(descriptor.path)
                    if target.startswith("socket:["):
                        found.add(int(target[len("socket:[") : -1]))
    return found


def held_by(pid: int, port: int) -> bool:
    """Whether process ``pid``, or one it started (npm's ``copilot`` runs the runtime as
    its child), listens on ``port``."""
    try:
        process = psutil.Process(pid)
        family = [process, *process.children(recursive=True)]
    except psutil.Error:
        return False
    return any(_listens(member, port) for member in family)


def _mine_listening(ips: Iterable[IP], port: int) -> bool:
    """Whether one of this user's processes listens on ``port`` of one of ``ips``."""
    me = psutil.Process().username()
    for process in psutil.process_iter():
        with contextlib.suppress(psutil.Error):
            if process.username() == me and _listens(process, port, ips):
                return True
    return False


def _anything_listens(host: str, port: int) -> bool:
    """Whether anything accepts a connection at ``host``:``port`` (nothing is sent)."""
    try:
        with socket.create_connection((host.strip("[]"), port), PROBE_TIMEOUT):
            return True
    except OSError:
        return False
