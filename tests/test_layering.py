"""The code rules of issue 10 that a reader can check by looking: tenancy is the ground
floor, no domain package reaches up into a web package, imports sit at the top, no private
helper crosses a package."""
from __future__ import annotations

import ast
import re
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app"
PACKAGES = {p.name for p in APP.iterdir() if (p / "__init__.py").exists()}
WEB = {"api", "citizen", "backoffice"}


def _modules():
    for path in sorted(APP.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _module_name(path: Path) -> str:
    parts = path.relative_to(APP.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(node, path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) of an import; a relative one resolved against `path`."""
    if isinstance(node, ast.Import):
        return [(alias.name, []) for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    if node.level == 0:
        return [(node.module, [alias.name for alias in node.names])] if node.module else []
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    base = package[:len(package) - (node.level - 1)]
    return [(".".join(base + ([node.module] if node.module else [])), [alias.name for alias in node.names])]


def _package_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "app" and parts[1] in PACKAGES else None


def _home(path: Path) -> str | None:
    """The package a file belongs to (also from a folder inside it); None for app/*.py."""
    parts = path.relative_to(APP).parts
    return parts[0] if len(parts) > 1 else None


def _packages_imported(path: Path, tree) -> list[str]:
    """Every app package `path` imports, `from app import booking` and relative imports included."""
    found = []
    for node in ast.walk(tree):
        for module, names in _imported(node, path):
            targets = [module] + [f"{module}.{n}" for n in names] if module == "app" else [module]
            found += [p for p in map(_package_of, targets) if p is not None]
    return found


def _wrong_imports(from_packages, allowed) -> list[str]:
    wrong = []
    for path, tree in _modules():
        home = _home(path)
        if home in from_packages:
            wrong += [f"{path.relative_to(APP)}: app.{p}" for p in _packages_imported(path, tree)
                      if not allowed(home, p)]
    return wrong


def test_tenancy_imports_no_other_domain_package():
    assert _wrong_imports({"tenancy"}, lambda home, package: package == "tenancy") == []


def test_no_domain_package_imports_a_web_package():
    domains = PACKAGES - WEB
    assert _wrong_imports(domains, lambda home, package: package not in WEB) == []


def test_the_layering_checks_see_every_way_of_importing():
    """The checks above must be able to fail: each of these imports in tenancy/ is seen."""
    module, nested = APP / "tenancy" / "x.py", APP / "tenancy" / "sub" / "x.py"
    for path, line in ((module, "import app.booking.service"), (module, "from app.booking import service"),
                       (module, "from app import booking"), (module, "from ..booking import service"),
                       (module, "from .. import booking"), (nested, "from ...booking.models import X")):
        assert _home(path) == "tenancy"
        assert _packages_imported(path, ast.parse(line)) == ["booking"], line
    assert _packages_imported(nested, ast.parse("from ..scope import all_tenants")) == ["tenancy"]


def test_no_import_inside_a_function_without_a_reason_on_its_line():
    lines_of = {}
    wrong = []
    for path, tree in _modules():
        lines_of[path] = path.read_text(encoding="utf-8").splitlines()
        for func in ast.walk(tree):
            if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(func):
                if isinstance(node, (ast.Import, ast.ImportFrom)) and "#" not in lines_of[path][node.lineno - 1]:
                    wrong.append(f"{path.relative_to(APP)}:{node.lineno}")
    assert wrong == []


def test_no_private_helper_is_imported_across_packages():
    wrong = []
    for path, tree in _modules():
        own = path.parent.name
        for node in ast.walk(tree):
            for module, names in _imported(node, path):
                if _package_of(module) not in (None, own):
                    wrong += [f"{path.relative_to(APP)}: {module}.{n}" for n in names
                              if n.startswith("_") and not n.startswith("__")]
    assert wrong == []


QUERYING = {"scalar", "scalars", "execute", "query"}


def _queries_built(path: Path, tree) -> list[str]:
    """Where a module builds or runs a query itself: an import from sqlalchemy (its
    exceptions aside) or `db.session.scalar/scalars/execute/query(…)`."""
    found = []
    for node in ast.walk(tree):
        for module, _names in _imported(node, path):
            if module.split(".")[0] == "sqlalchemy" and module != "sqlalchemy.exc":
                found.append(f"{path.relative_to(APP)}:{node.lineno}: import {module}")
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in QUERYING
                and ast.unparse(node.func.value) == "db.session"):
            found.append(f"{path.relative_to(APP)}:{node.lineno}: db.session.{node.func.attr}")
    return found


def test_web_packages_build_no_query():
    """A query built in a view is a rule: the pages, the API and the back office ask a domain
    function (flushing, committing and rolling back the request's transaction stay theirs)."""
    wrong = []
    for path, tree in _modules():
        if _home(path) in WEB:
            wrong += _queries_built(path, tree)
    assert wrong == []


def test_the_query_check_sees_a_query_in_a_view():
    view = APP / "citizen" / "x.py"
    for line in ("from sqlalchemy import select", "import sqlalchemy.orm", "db.session.scalars(q)",
                 "x = db.session.execute(text('SELECT 1'))", "db.session.query(Service).all()"):
        assert _queries_built(view, ast.parse(line)), line
    for line in ("from sqlalchemy.exc import IntegrityError", "db.session.rollback()", "db.session.get(Office, 1)"):
        assert not _queries_built(view, ast.parse(line)), line


def test_templates_link_by_route_name_not_by_typed_path():
    """Every link and form target in a template comes from url_for (tenant-aware, follows
    the route), never from a hand-typed path like href="/admin/day"."""
    typed = re.compile(r"""\b(?:href|action|src)\s*=\s*["']/(?!/)""")
    found = [f"{path.relative_to(APP.parent)}:{n}" for path in sorted((APP.parent / "templates").rglob("*.html"))
             for n, line in enumerate(path.read_text().splitlines(), 1) if typed.search(line)]
    assert found == [], found
    assert typed.search('<a href="/">') and not typed.search('<a href="{{ url_for(\'citizen.home\') }}">')
