"""A streaming reply is one display, updated at most ~10 times a second, then exactly once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from copilot_magic.output_metadata import Stage
from copilot_magic.ui import live_reply
from copilot_magic.ui.live_reply import LiveReply
from copilot_magic.views.render import ABSTAINED_BANNER, UpdateThrottle

SIGNAL = "[[POR_ABSTAIN]]"
DELTAS = 2000
STEP = 0.0005  # simulated seconds between deltas: 2,000 deltas span one second


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class FakeHandle:
    def __init__(self) -> None:
        self.updates: list[tuple[dict[str, str], dict[str, Any]]] = []

    def update(self, obj: dict[str, str], *, raw: bool, metadata: dict[str, Any]) -> None:
        assert raw
        self.updates.append((obj, metadata))


class FakeDisplay:
    """Stands in for ``IPython.display.display``; records the first display."""

    def __init__(self) -> None:
        self.calls: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.handle = FakeHandle()

    def __call__(
        self, obj: dict[str, str], *, raw: bool, metadata: dict[str, Any], display_id: bool
    ) -> FakeHandle:
        assert raw
        assert display_id is True
        self.calls.append((obj, metadata))
        return self.handle


@pytest.fixture
def fake_display(monkeypatch: pytest.MonkeyPatch) -> FakeDisplay:
    fake = FakeDisplay()
    monkeypatch.setattr(live_reply, "display", fake)
    return fake


def _words(count: int) -> list[str]:
    return [f"w{i} " for i in range(count)]


def _stream(reply: LiveReply, clock: FakeClock, texts: list[str]) -> None:
    for i, text in enumerate(texts):
        clock.now = 500.0 + i * STEP
        reply.stream(text)


def _cumulative(pieces: list[str]) -> list[str]:
    texts, so_far = [], ""
    for piece in pieces:
        so_far += piece
        texts.append(so_far)
    return texts


def _rich_reply(clock: FakeClock) -> LiveReply:
    reply = LiveReply("demo", 3, SIGNAL, rich=True)
    reply._throttle = UpdateThrottle(10, clock=clock)
    return reply


def test_fake_display_gets_one_display_and_coalesced_updates(fake_display: FakeDisplay) -> None:
    clock = FakeClock()
    reply = _rich_reply(clock)
    reply.start()
    texts = _cumulative(_words(DELTAS))
    _stream(reply, clock, texts)
    streamed = len(fake_display.handle.updates)
    reply.finish(texts[-1], Stage.DONE)

    assert len(fake_display.calls) == 1
    assert 1 <= streamed <= 11
    assert len(fake_display.handle.updates) == streamed + 1
    assert reply.updates == 1 + streamed + 1


def test_fake_display_first_display_is_the_waiting_note(fake_display: FakeDisplay) -> None:
    _rich_reply(FakeClock()).start()
    bundle, metadata = fake_display.calls[0]
    assert "Waiting for Copilot" in bundle["text/html"]
    assert "Waiting for Copilot" in bundle["text/plain"]
    assert metadata["copilot_magic"]["stage"] == "waiting"


def test_fake_display_final_update_has_full_text_and_metadata(fake_display: FakeDisplay) -> None:
    clock = FakeClock()
    reply = _rich_reply(clock)
    reply.start()
    texts = _cumulative(_words(DELTAS))
    _stream(reply, clock, texts)
    reply.finish(texts[-1], Stage.DONE)

    bundle, metadata = fake_display.handle.updates[-1]
    assert texts[-1].strip() in bundle["text/html"]
    assert bundle["text/plain"] == texts[-1]  # exactly the reply, untouched
    assert "Waiting" not in bundle["text/html"]
    assert metadata == {
        "copilot_magic": {"session_id": "demo", "turn": 3, "stage": "done", "abstained": False}
    }
    for _, streamed_metadata in fake_display.handle.updates[:-1]:
        assert streamed_metadata["copilot_magic"]["stage"] == "streaming"


def test_fake_display_abstained_final_bundle_has_banner_not_marker(
    fake_display: FakeDisplay,
) -> None:
    clock = FakeClock()
    reply = _rich_reply(clock)
    reply.start()
    texts = _cumulative([SIGNAL, " I", " cannot", " tell."])
    _stream(reply, clock, texts)
    reply.finish(texts[-1], Stage.DONE)

    bundle, metadata = fake_display.handle.updates[-1]
    assert ABSTAINED_BANNER in bundle["text/html"]
    assert "copilot-abstained" in bundle["text/html"]
    assert "I cannot tell." in bundle["text/html"]
    assert SIGNAL not in bundle["text/html"]
    assert SIGNAL not in bundle["text/plain"]
    assert metadata["copilot_magic"]["abstained"] is True
    for streamed, _ in fake_display.handle.updates:
        assert SIGNAL not in streamed["text/html"]


def test_fake_display_interrupted_and_failed_finish_show_their_stage(
    fake_display: FakeDisplay,
) -> None:
    for stage, note in ((Stage.INTERRUPTED, "Interrupted"), (Stage.FAILED, "failed")):
        reply = _rich_reply(FakeClock())
        reply.start()
        reply.stream("partial answer")
        reply.finish("partial answer", stage, "boom")
        bundle, metadata = fake_display.handle.updates[-1]
        assert note in bundle["text/html"]
        assert "partial answer" in bundle["text/html"]
        assert metadata["copilot_magic"]["stage"] == stage.value


def test_fake_display_notices_are_pushed_immediately(fake_display: FakeDisplay) -> None:
    clock = FakeClock()
    reply = _rich_reply(clock)
    reply.start()
    reply.stream("a")
    reply.notice("Retrying after a rate limit")
    bundle, _ = fake_display.handle.updates[-1]
    assert "Retrying after a rate limit" in bundle["text/html"]
    assert len(fake_display.handle.updates) == 2


def test_real_display_publisher_records_display_and_updates(ip: InteractiveShell) -> None:
    clock = FakeClock()
    texts = _cumulative(_words(DELTAS))
    with capture_output() as captured:
        reply = _rich_reply(clock)
        reply.start()
        _stream(reply, clock, texts)
        reply.finish(texts[-1], Stage.DONE)

    outputs = captured.outputs
    assert 3 <= len(outputs) <= 1 + 11 + 1
    assert reply.updates == len(outputs)
    final = outputs[-1]
    assert texts[-1].strip() in final.data["text/html"]
    assert final.metadata["copilot_magic"]["session_id"] == "demo"
    assert final.metadata["copilot_magic"]["turn"] == 3
    assert final.metadata["copilot_magic"]["stage"] == "done"


def test_plain_reply_streams_text_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    reply = LiveReply("demo", 1, SIGNAL, rich=False)
    reply.start()
    texts = _cumulative(["Hello", ", ", "world", "."])
    for text in texts:
        reply.stream(text)
    assert capsys.readouterr().out == "Hello, world."
    reply.finish(texts[-1], Stage.DONE)
    assert capsys.readouterr().out == "\n"
    assert reply.updates == 0


def test_plain_reply_rewrites_when_text_changes(capsys: pytest.CaptureFixture[str]) -> None:
    reply = LiveReply("demo", 1, SIGNAL, rich=False)
    reply.stream("draft")
    reply.finish("final", Stage.DONE)
    assert capsys.readouterr().out == "draft\nfinal\n"


def test_plain_abstained_reply_prints_banner_once_without_marker(
    capsys: pytest.CaptureFixture[str],
) -> None:
    reply = LiveReply("demo", 1, SIGNAL, rich=False)
    reply.start()
    texts = _cumulative([SIGNAL, " I cannot", " tell."])
    for text in texts:
        reply.stream(text)
    reply.finish(texts[-1], Stage.DONE)
    assert capsys.readouterr().out == f"{ABSTAINED_BANNER}\nI cannot tell.\n"


def test_plain_notice_goes_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    reply = LiveReply("demo", 1, SIGNAL, rich=False)
    reply.notice("Retrying")
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "Retrying" in captured.err


def test_fake_display_reads_the_text_only_for_the_updates_it_shows(
    fake_display: FakeDisplay,
) -> None:
    """A long reply is not joined at every piece: only when the throttle lets an update out."""
    clock = FakeClock()
    reply = _rich_reply(clock)
    reply.start()
    texts = _cumulative(_words(DELTAS))
    reads: list[int] = []

    def reader(i: int) -> Callable[[], str]:
        return lambda: reads.append(i) or texts[i]

    for i in range(len(texts)):
        clock.now = 500.0 + i * STEP
        reply.stream(reader(i))
    assert len(reads) == len(fake_display.handle.updates)
    assert fake_display.handle.updates[-1][0]["text/plain"] == texts[reads[-1]]


def test_fake_display_a_notice_shows_the_text_the_throttle_held_back(
    fake_display: FakeDisplay,
) -> None:
    clock = FakeClock()
    reply = _rich_reply(clock)
    reply.start()
    clock.now = 500.0
    reply.stream("first part")
    clock.now = 500.01  # within the throttle's interval: held back
    reply.stream(lambda: "first part, and more")
    assert fake_display.handle.updates[-1][0]["text/plain"] == "first part"
    reply.notice("Retrying after a rate limit")
    shown = fake_display.handle.updates[-1][0]["text/plain"]
    assert shown.startswith("first part, and more")
    assert "Retrying after a rate limit" in shown


def test_repeated_retry_notices_are_one_line_that_counts_them(fake_display: FakeDisplay) -> None:
    reply = LiveReply("s", 1, SIGNAL, rich=True)
    reply.start()
    retry = "Response was interrupted due to a server error. Retrying..."
    for _ in range(3):
        reply.notice(retry)
    reply.notice("Compacting the conversation.")
    html = fake_display.handle.updates[-1][0]["text/html"]
    assert html.count("Retrying...") == 1
    assert f"↻ {retry} (3 times in 0 s)" in html
    assert "↻ Compacting the conversation." in html
    assert "Waiting for Copilot" not in html
