"""The models a BYOK provider offers, from its own model list.

The runtime lists models only for a GitHub Copilot sign-in; with your own
provider the provider is asked: ``GET <provider_url>/models`` for OpenAI-
compatible servers (OpenAI, Ollama, vLLM, LM Studio...) and Anthropic, and
Azure's ``/openai/models``. The key goes only to the provider, in its header.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from copilot_magic.errors import RuntimeUnavailable, one_line

LIST_TIMEOUT = 10.0
ANTHROPIC_VERSION = "2023-06-01"
AZURE_API_VERSION = "2024-10-21"


def _request(url: str, kind: str, key: str) -> urllib.request.Request:
    base = url.rstrip("/")
    if kind == "azure":
        address, headers = f"{base}/openai/models?api-version={AZURE_API_VERSION}", {}
        if key:
            headers["api-key"] = key
    elif kind == "anthropic":
        address = f"{base}/models" if base.endswith("/v1") else f"{base}/v1/models"
        headers = {"anthropic-version": ANTHROPIC_VERSION}
        if key:
            headers["x-api-key"] = key
    else:
        address, headers = f"{base}/models", {}
        if key:
            headers["Authorization"] = f"Bearer {key}"
    return urllib.request.Request(address, headers=headers)


def provider_models(url: str, kind: str, key: str, timeout: float = LIST_TIMEOUT) -> list[str]:
    """The model ids the provider at ``url`` lists, sorted. Raises :class:`RuntimeUnavailable`
    in one line (never with the key) when it cannot be reached or answers oddly."""
    try:
        with urllib.request.urlopen(_request(url, kind, key), timeout=timeout) as answer:
            body: Any = json.loads(answer.read() or b"{}")
    except urllib.error.HTTPError as error:
        raise RuntimeUnavailable(
            f"The provider at {url} refused to list its models (HTTP {error.code})."
        ) from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = one_line(getattr(error, "reason", error)) or type(error).__name__
        raise RuntimeUnavailable(
            f"Could not list the models of the provider at {url}: {reason}."
        ) from None
    entries = body.get("data") or body.get("models") or [] if isinstance(body, dict) else []
    names = {
        str(entry.get("id") or entry.get("name"))
        for entry in entries
        if isinstance(entry, dict) and (entry.get("id") or entry.get("name"))
    }
    return sorted(names)
