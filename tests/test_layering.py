"""The code rules of issue 10 that a reader can check by looking: tenancy is the ground
floor, imports sit at the top, no private helper crosses a package."""
from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app"
PACKAGES = {p.name for p in APP.iterdir() if (p / "__init__.py").exists()}


def _modules():
    for path in sorted(APP.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imported(node) -> list[tuple[str, list[str]]]:
    if isinstance(node, ast.Import):
        return [(alias.name, []) for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        return [(node.module, [alias.name for alias in node.names])]
    return []


def _package_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "app" and parts[1] in PACKAGES else None


def test_tenancy_imports_no_other_domain_package():
    wrong = []
    for path, tree in _modules():
        if path.parent.name != "tenancy":
            continue
        for node in ast.walk(tree):
            for module, names in _imported(node):
                targets = [module] + [f"{module}.{n}" for n in names] if module == "app" else [module]
                wrong += [f"{path.name}: {t}" for t in targets if _package_of(t) not in (None, "tenancy")]
    assert wrong == []


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
            for module, names in _imported(node):
                if _package_of(module) not in (None, own):
                    wrong += [f"{path.relative_to(APP)}: {module}.{n}" for n in names
                              if n.startswith("_") and not n.startswith("__")]
    assert wrong == []
