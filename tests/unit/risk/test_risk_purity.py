"""``laicai.risk`` is pure: it imports only the standard library, ``laicai.domain`` and
``laicai.strategy`` (``laicai.config`` for type checking only): no ``time``, ``datetime`` or
``asyncio``, so it cannot read a clock."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import laicai.risk

PACKAGE = Path(laicai.risk.__file__).parent
ALLOWED_STDLIB = {"__future__", "collections", "dataclasses", "decimal", "enum", "itertools",
                  "math", "typing"}


def _runtime_imports(tree: ast.Module) -> set[str]:
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


def test_risk_modules_import_only_the_stdlib_the_domain_and_the_strategy() -> None:
    for path in sorted(PACKAGE.glob("*.py")):
        source = path.read_text(encoding="utf-8")
        for module in _runtime_imports(ast.parse(source)):
            ok = (module.split(".")[0] in ALLOWED_STDLIB
                  or module.startswith(("laicai.domain", "laicai.risk", "laicai.strategy")))
            assert ok, f"{path.name} imports {module}"  # so no time, datetime or asyncio


def test_importing_risk_loads_no_framework() -> None:
    code = ("import sys, laicai.risk; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "{'pydantic', 'ccxt', 'sqlalchemy', 'aiohttp', 'asyncio', 'laicai'} "
            "and not m.startswith(('laicai.risk', 'laicai.domain', 'laicai.strategy')) "
            "and m != 'laicai'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"
