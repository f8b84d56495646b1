"""Whose socket is at a runtime's address: /proc/net/tcp read from fake contents, the one
line for another user's port, and the SDK's socket checked before its first byte."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import pwd
import secrets
import socket
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from copilot_magic.errors import RuntimeNotYours
from copilot_magic.runtime import listeners, sdk
from copilot_magic.runtime.listeners import (
    ANOTHER_PROCESS,
    ELSEWHERE,
    MINE,
    NOBODY,
    TcpSocket,
    listening_at,
    parse_proc_net,
    port_owner,
    vet_connection,
)

HEADING = (
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
    "timeout inode\n"
)
REST = "00000000:00000000 00:00000000 00000000"


def _line(local: str, remote: str, state: str, uid: int, inode: int) -> str:
    return f"   0: {local} {remote} {state} {REST} {uid:5}        0 {inode} 1 0 100 0 0 10 0\n"


def _other_user() -> pwd.struct_passwd:
    """A user of this machine that this process is not (by name: the line names it)."""
    return next(u for u in pwd.getpwall() if u.pw_uid != os.geteuid() and u.pw_name)


def test_the_sockets_of_proc_net_tcp_are_read_with_their_owner() -> None:
    text = (
        HEADING
        + _line("0100007F:A028", "00000000:0000", "0A", 1001, 51234)  # 127.0.0.1:41000
        + _line("00000000:1F90", "00000000:0000", "0A", 0, 100)  # 0.0.0.0:8080
        + _line("0100007F:A028", "0100007F:C350", "01", 1001, 51240)  # accepted
        + "   3: not a socket line\n"
    )
    found = parse_proc_net(text, byteorder="little")
    loopback, anywhere = ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("0.0.0.0")
    assert found == [
        TcpSocket((loopback, 41000), (anywhere, 0), 0x0A, 1001, 51234),
        TcpSocket((anywhere, 8080), (anywhere, 0), 0x0A, 0, 100),
        TcpSocket((loopback, 41000), (loopback, 50000), 0x01, 1001, 51240),
    ]
    assert parse_proc_net("") == []


def test_the_sockets_of_proc_net_tcp6_are_read_and_ipv4_in_ipv6_is_ipv4() -> None:
    zero = "0" * 32
    text = (
        HEADING
        + _line(f"{zero}:A029", f"{zero}:0000", "0A", 1002, 600)  # [::]:41001
        + _line("00000000000000000000000001000000:A02A", f"{zero}:0000", "0A", 7, 601)
        + _line("0000000000000000FFFF00000100007F:A02B", f"{zero}:0000", "0A", 8, 602)
    )
    found = parse_proc_net(text, byteorder="little")
    assert [(str(s.local[0]), s.local[1], s.uid) for s in found] == [
        ("::", 41001, 1002),
        ("::1", 41002, 7),
        ("127.0.0.1", 41003, 8),
    ]


def test_a_socket_listening_on_every_address_takes_connections_to_loopback() -> None:
    def listener(address: str, port: int, state: int = 0x0A) -> TcpSocket:
        zero = ipaddress.ip_address("0.0.0.0")
        return TcpSocket((ipaddress.ip_address(address), port), (zero, 0), state, 1, 0)

    every_v4, every_v6 = listener("0.0.0.0", 41000), listener("::", 41000)
    loopback, other = listener("127.0.0.1", 41000), listener("127.0.0.2", 41000)
    sockets = [every_v4, every_v6, loopback, other, listener("127.0.0.1", 41001)]
    sockets.append(listener("127.0.0.1", 41000, state=0x01))  # connected, not listening
    v4, v6 = ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")
    assert listening_at(sockets, [v4], 41000) == [every_v4, every_v6, loopback]
    assert listening_at(sockets, [v6], 41000) == [every_v6]


@pytest.fixture
def listening() -> Iterator[socket.socket]:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server


def _address(server: socket.socket) -> str:
    return f"127.0.0.1:{server.getsockname()[1]}"


def _squatted(monkeypatch: pytest.MonkeyPatch, address: str, uid: int) -> None:
    """``/proc/net/tcp`` as it reads while user ``uid`` listens at ``address``."""
    host, _, port = address.rpartition(":")
    zero = ipaddress.ip_address("0.0.0.0")
    squatter = TcpSocket((ipaddress.ip_address(host), int(port)), (zero, 0), 0x0A, uid, 1)
    monkeypatch.setattr(listeners, "system_sockets", lambda: [squatter])


def test_another_users_port_is_refused_in_one_line_naming_the_port_and_its_owner(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    other = _other_user()
    _squatted(monkeypatch, "127.0.0.1:41000", other.pw_uid)
    with pytest.raises(RuntimeNotYours) as refused:
        port_owner("127.0.0.1:41000")
    assert str(refused.value) == (
        f"The port 127.0.0.1:41000 belongs to another user, {other.pw_name} (uid "
        f"{other.pw_uid}), not to you: nothing was sent to it (no token, key or prompt). "
        "Point the runtime setting at a runtime of your own, or set it to shared or own."
    )
    _squatted(monkeypatch, "0.0.0.0:41000", other.pw_uid)  # every address: loopback's too
    with pytest.raises(RuntimeNotYours):
        port_owner("localhost:41000")


def test_a_port_of_mine_of_nobody_or_of_another_machine(listening: socket.socket) -> None:
    assert port_owner(_address(listening)) == MINE
    assert port_owner(_address(listening), holder=os.getpid()) == MINE
    with socket.socket() as bound:  # bound, never listening
        bound.bind(("127.0.0.1", 0))
        assert port_owner(_address(bound)) == NOBODY
    assert port_owner("192.0.2.1:41000") == ELSEWHERE  # TEST-NET-1: no machine's here
    assert port_owner("no-such-host.invalid:41000") == ELSEWHERE


def test_a_port_of_mine_that_the_recorded_process_does_not_hold_is_another_process(
    listening: socket.socket,
) -> None:
    other = subprocess.Popen([sys.executable, "-c", "input()"], stdin=subprocess.PIPE)
    try:
        assert port_owner(_address(listening), holder=other.pid) == ANOTHER_PROCESS
    finally:
        other.kill()
        other.wait()


def test_where_the_system_lists_no_sockets_my_own_process_is_the_proof(
    monkeypatch: pytest.MonkeyPatch, listening: socket.socket
) -> None:
    monkeypatch.setattr(listeners, "system_sockets", lambda: None)
    assert port_owner(_address(listening)) == MINE
    assert port_owner(_address(listening), holder=os.getpid()) == MINE
    monkeypatch.setattr(listeners, "_mine_listening", lambda ips, port: False)
    with pytest.raises(RuntimeNotYours) as unproven:
        port_owner(_address(listening))
    assert str(unproven.value).startswith(
        f"What listens at {_address(listening)} is not a process of yours (this system does "
        "not tell whose it is): nothing was sent to it"
    )


def test_a_connected_socket_is_vetted_by_the_socket_that_accepted_it(
    monkeypatch: pytest.MonkeyPatch, listening: socket.socket
) -> None:
    with socket.create_connection(listening.getsockname()) as connected:
        vet_connection(connected)  # this process's own listener
        peer, own = connected.getpeername(), connected.getsockname()
        other = _other_user()
        accepting = TcpSocket(
            (ipaddress.ip_address(peer[0]), peer[1]),
            (ipaddress.ip_address(own[0]), own[1]),
            0x01,
            other.pw_uid,
            2,
        )
        monkeypatch.setattr(listeners, "system_sockets", lambda: [accepting])
        with pytest.raises(RuntimeNotYours) as refused:
            vet_connection(connected)
    assert str(refused.value).startswith(
        f"The port {_address(listening)} belongs to another user, {other.pw_name}"
    )


def test_the_sdk_sends_nothing_before_its_connected_socket_is_vetted(
    listening: socket.socket,
) -> None:
    accepted: list[socket.socket] = []

    def vet(connected: socket.socket) -> None:
        accepted.append(listening.accept()[0])
        accepted[0].setblocking(False)
        with pytest.raises(BlockingIOError):
            accepted[0].recv(65536)  # nothing sent yet
        raise RuntimeNotYours("not yours")

    client = sdk.connect(_address(listening), secrets.token_urlsafe(32), vet=vet)

    async def attempt() -> None:
        try:
            await client.start()
        finally:
            await client.force_stop()

    # On a loop of its own thread, as the bridge runs the SDK (an earlier test in the same
    # run may leave a loop running on the main thread, where asyncio.run would fail).
    with ThreadPoolExecutor(1) as loop_thread, pytest.raises(RuntimeNotYours):
        loop_thread.submit(asyncio.run, attempt()).result(timeout=30)
    assert len(accepted) == 1, "the socket was not vetted"
    with accepted[0] as server_side:
        server_side.settimeout(10)
        assert server_side.recv(65536) == b"", "the client sent something after all"
