"""The README's configuration table names every environment variable the project reads."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# envstr("X"), envint("X", …), envbool, envlist, os.environ["X"], os.environ.get("X"), os.getenv("X")
_READS = re.compile(
    r"""(?:env\w*|os\.environ\.get|os\.getenv)\(\s*["']([A-Z][A-Z0-9_]+)["']"""
    r"""|os\.environ\[["']([A-Z][A-Z0-9_]+)["']\]"""
)


def _variables_read() -> set[str]:
    names: set[str] = set()
    for folder in ("registry", "guidelines", "consent", "provenance"):
        for path in (ROOT / folder).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for match in _READS.finditer(path.read_text()):
                names.add(match.group(1) or match.group(2))
    return names


def _configuration_table() -> str:
    readme = (ROOT / "README.md").read_text()
    start = readme.index("## Configuration")
    return readme[start : readme.index("\n## ", start + 1)]


def test_every_variable_the_settings_read_is_in_the_readme():
    table = _configuration_table()
    variables = _variables_read()
    assert {"DATABASE_URL", "SECRET_KEY", "REGISTRY_OUTBOUND_ALLOWED_NETWORKS"} <= variables  # the scan works
    missing = sorted(name for name in variables if f"`{name}`" not in table)
    assert missing == [], f"not in the README's configuration table: {missing}"
