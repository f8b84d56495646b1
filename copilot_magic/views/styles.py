"""The look of replies and transcripts: one style sheet, in JupyterLab's own colours.

Every colour is a JupyterLab theme variable (``--jp-…``), so light, dark and
high-contrast themes all read well; each has a fallback for frontends without
them (VS Code, an exported page). Code tokens use the colours of JupyterLab's
own code editor. The abstention badge has a fixed light background and dark
text, readable on any theme. The sheet is scoped to ``.copilot-reply`` and
``.copilot-history`` and travels with each output, so a saved notebook keeps
its look.
"""

from __future__ import annotations

from functools import lru_cache

# Pygments token classes, by the JupyterLab editor colour they take.
_TOKEN_COLOURS = {
    "keyword": ("k", "kc", "kd", "kn", "kp", "kr", "kt", "ow"),
    "string": ("s", "s1", "s2", "sa", "sb", "sc", "sd", "se", "sh", "si", "sr", "ss", "sx", "dl"),
    "number": ("m", "mb", "mf", "mh", "mi", "mo", "il"),
    "comment": ("c", "c1", "ch", "cm", "cp", "cpf", "cs"),
    "def": ("nf", "fm", "nc", "nn"),
    "builtin": ("nb", "bp"),
    "operator": ("o",),
    "meta": ("nd",),
    "punctuation": ("p",),
    "attribute": ("na",),
}
_FALLBACK = {  # JupyterLab Light's values, for frontends without its variables
    "keyword": "#008000",
    "string": "#ba2121",
    "number": "#008800",
    "comment": "#408080",
    "def": "#0000ff",
    "builtin": "#008000",
    "operator": "#7800c2",
    "meta": "#aa22ff",
    "punctuation": "#0055aa",
    "attribute": "#0000cc",
}
ABSTAIN_BADGE = "background:#ffcdd2;color:#7f0000"  # 9.9:1 whatever the theme behind it
SCOPE = ":is(.copilot-reply,.copilot-history,.copilot-consent)"

_SHEET = """
{s} .copilot-code-block {{margin:.6em 0 .9em 0;border:1px solid var(--jp-border-color2,#e0e0e0);
  border-radius:4px;background:var(--jp-cell-editor-background,#f5f5f5);overflow:hidden}}
{s} .copilot-code-bar {{display:flex;gap:.8em;align-items:center;padding:2px 6px 2px 10px;
  font-family:var(--jp-ui-font-family,sans-serif);font-size:11px;
  color:var(--jp-ui-font-color2,#666);border-bottom:1px solid var(--jp-border-color2,#e0e0e0)}}
{s} .copilot-code-lang {{font-weight:600;text-transform:lowercase}}
{s} .copilot-code-hint {{flex:1}}
{s} .copilot-code-hint code {{background:none;padding:0;font-size:11px}}
{s} .copilot-copy {{margin-left:auto;font-size:11px;padding:1px 8px;cursor:pointer;
  border:1px solid var(--jp-border-color1,#bdbdbd);border-radius:3px;
  background:var(--jp-layout-color1,#fff);color:var(--jp-ui-font-color1,#222)}}
{s} pre.copilot-code {{margin:0;padding:8px 10px;overflow-x:auto;white-space:pre;
  background:none;border:none;font-family:var(--jp-code-font-family,monospace);
  font-size:var(--jp-code-font-size,13px);line-height:var(--jp-code-line-height,1.3);
  color:var(--jp-content-font-color1,#222)}}
{s} pre.copilot-code code {{background:none;padding:0;white-space:pre}}
{s} :not(pre) > code {{background:var(--jp-layout-color2,#eee);padding:1px 4px;
  border-radius:3px;font-size:90%}}
{s} table {{border-collapse:collapse;margin:.5em 0}}
{s} th {{border-bottom:2px solid var(--jp-border-color1,#bdbdbd);font-weight:600}}
{s} th, {s} td {{padding:3px 10px}}
{s} a[href] {{color:var(--jp-content-link-color,#0d47a1);text-decoration:underline}}
{s} .copilot-badge {{{badge};border-radius:9px;padding:0 7px;font-weight:600;font-size:90%}}
{s} .copilot-writing {{color:var(--jp-ui-font-color2,#666);font-size:90%;
  animation:copilot-pulse 1.4s ease-in-out infinite}}
{s} .copilot-quiet {{color:var(--jp-ui-font-color2,#666);font-size:92%}}
.copilot-consent pre.copilot-code {{white-space:pre-wrap;overflow-wrap:anywhere;
  unicode-bidi:bidi-override;direction:ltr}}
.copilot-consent pre.copilot-code code {{white-space:pre-wrap}}
.copilot-consent .copilot-hidden-char {{{badge};border-radius:3px;padding:0 2px;font-weight:600}}
.copilot-consent-refused {{font-weight:600}}
.copilot-history .widget-html-content {{line-height:1.5;font-size:var(--jp-content-font-size1,14px);
  white-space:normal}}
.copilot-history p {{margin:.35em 0}}
"""


@lru_cache(maxsize=1)
def style_sheet() -> str:
    """The ``<style>`` element that goes with every reply and transcript."""
    rules = [_SHEET.format(s=SCOPE, badge=ABSTAIN_BADGE)]
    rules.append("@keyframes copilot-pulse {50% {opacity:.35}}")
    for colour, classes in _TOKEN_COLOURS.items():
        names = ",".join(f".{name}" for name in classes)
        value = f"var(--jp-mirror-editor-{colour}-color,{_FALLBACK[colour]})"
        italic = ";font-style:italic" if colour == "comment" else ""
        rules.append(f"{SCOPE} .copilot-code :is({names}) {{color:{value}{italic}}}")
    compact = " ".join(" ".join(rules).split())
    return f"<style>{compact}</style>"
