"""``laicai.strategy`` is pure: it imports only the standard library and ``laicai.domain``
(``laicai.config`` for type checking only), and reads no clock."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import laicai.strategy

PACKAGE = Path(laicai.strategy.__file__).parent
ALLOWED_STDLIB = {"__future__", "collections", "dataclasses", "decimal", "enum", "functools",
                  "itertools", "math", "operator",
                  "typing"}


def _runtime_imports(tree: ast.Module) -> set[str]:
    """Modules imported outside ``if TYPE_CHECKING:`` blocks."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            node.body = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_strategy_modules_import_only_the_stdlib_and_the_domain() -> None:
    for path in sorted(PACKAGE.glob("*.py")):
        source = path.read_text(encoding="utf-8")
        for module in _runtime_imports(ast.parse(source)):
            top = module.split(".")[0]
            ok = (top in ALLOWED_STDLIB or module.startswith("laicai.domain")
                  or module.startswith("laicai.strategy"))
            assert ok, f"{path.name} imports {module}"
        for clock in ("time.", "datetime", "asyncio"):
            assert clock not in source.replace("ms_to_next_funding", ""), (path.name, clock)


def test_importing_the_strategy_loads_no_framework() -> None:
    code = ("import sys, laicai.strategy; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "{'pydantic', 'ccxt', 'sqlalchemy', 'aiohttp', 'asyncio', 'laicai'} "
            "and not m.startswith(('laicai.strategy', 'laicai.domain')) and m != 'laicai'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"
