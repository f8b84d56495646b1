"""The Copilot runtime: starting it, the loop thread that talks to it, and the one door to the SDK.

Nothing in this package imports IPython or anything above it (sessions, views,
ui, cli).
"""
