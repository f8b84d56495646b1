"""How sessions are shown, without IPython: plain text, sanitised HTML, exports, result objects."""
