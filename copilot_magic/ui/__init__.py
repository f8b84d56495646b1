"""The notebook user interface: the magics, the streaming reply, the session browser."""
