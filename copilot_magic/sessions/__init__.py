"""The sessions domain: open, talk, read, list, remove; ids, ownership and notebook links.

No IPython here: the magics, the panel and the command line share it. It calls
the runtime package and never imports the presentation layers (views, ui, cli).
"""
