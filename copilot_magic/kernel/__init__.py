"""What Copilot may see of the kernel: bounded descriptions of values, the references of a
prompt, and the kernel tools."""
