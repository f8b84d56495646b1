"""Browser tests: JupyterLab in headless Chromium, driven by Playwright, on the real runtime."""
