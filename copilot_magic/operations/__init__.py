"""The operations on stored sessions, declared once (:mod:`.table`).

The magic's options, the command line's verbs, their help and the README's reference
are all made from that table; :mod:`.grammar` says how an operation is declared and
the one rule for those that destroy.
"""
