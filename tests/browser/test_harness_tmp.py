from __future__ import annotations

import pytest
from playwright.sync_api import expect

BUTTON = """import ipywidgets as w
out = w.Label("not clicked")
b = w.Button(description="Press me")
b.on_click(lambda _: setattr(out, "value", "clicked!"))
s = w.Select(options=["alpha  ·  one", "beta  ·  two"], rows=4)
box = w.VBox([s, b, out]); box.add_class("harness-box"); box"""


@pytest.mark.browser
def test_harness(lab_page) -> None:
    lab_page.open_notebook(["x = 1", BUTTON])
    lab_page.run_all()
    lab_page.wait_for_output(".harness-box")
    box = lab_page.page.locator(".harness-box")
    texts = box.locator("select option").evaluate_all("els => els.map(e => e.textContent)")
    print(repr(texts))
    box.locator("select").select_option(index=1)
    box.get_by_role("button", name="Press me", exact=True).click()
    expect(box).to_contain_text("clicked!")
    lab_page.screenshot("harness.png")
    print(lab_page.watch.console)
