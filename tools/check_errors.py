"""The one error of the offline policy check (tools.check and the modules it is built from).

A `CheckError` means the export, the policy config or a policy cannot be used; the
command line prints its message (never a traceback) and exits 2.
"""

from __future__ import annotations


class CheckError(Exception):
    """The export or the config cannot be used (exit code 2)."""


__all__ = ["CheckError"]
