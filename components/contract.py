"""The platform's import path to the app's contract (app/kakoi/contract.py): `from components.contract import contract`.

The contract lives in the app because the image's build context is app/ (app/Dockerfile); the
Pulumi program runs from the repository root, where app/ is not importable. This puts app/ at the
END of sys.path (so nothing of the program's own is shadowed) and imports `kakoi.contract`, a
pure module: `kakoi/__init__.py` is empty, and the contract imports neither Django nor anything
else of the app.
"""

from __future__ import annotations

import sys
from pathlib import Path

_APP = str(Path(__file__).resolve().parents[1] / "app")
if _APP not in sys.path:
    sys.path.append(_APP)

from kakoi import contract  # noqa: E402

__all__ = ["contract"]
