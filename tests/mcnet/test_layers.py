"""The layers contract (pyproject.toml, run by `make test`) covers the whole of mcnet/: a
module added there without a place in a layer would be checked by nothing."""

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _contract() -> dict:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    return next(c for c in config["contracts"] if c["id"] == "layers")


def _layer_modules(contract: dict) -> set[str]:
    names = set()
    for layer in contract["layers"]:
        for part in layer.replace("|", ":").split(":"):
            names.add(part.strip())
    return names


def test_every_module_of_mcnet_has_a_layer():
    listed = _layer_modules(_contract())
    on_disk = {
        f"mcnet.{path.stem}"
        for path in (ROOT / "mcnet").iterdir()
        if (path.suffix == ".py" and path.stem != "__init__")
        or (path.is_dir() and (path / "__init__.py").exists())
    }
    assert on_disk - listed == set(), "add these to a layer in pyproject.toml"
    assert listed - on_disk - {"facilities", "consents", "groups", "enrollment", "devices"} == set()


def test_the_apps_above_the_base_are_layers_of_their_own():
    layers = _contract()["layers"]
    assert "mcnet.printing | mcnet.dashboard | mcnet.auditlog" in layers
    assert layers.index("enrollment | devices") < layers.index("groups")
    assert layers.index("groups") < layers.index("consents") < layers.index("facilities")


def test_the_layers_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout[-3000:]


APPS = ("mcnet", "facilities", "consents", "groups", "enrollment", "devices")
# Django's documented place to connect receivers: apps.py is imported before the models are
# loaded, so its module level cannot import what defines receivers (they import models).
IMPORTS_IN_FUNCTIONS_ALLOWED = {
    ("mcnet/apps.py", "ready"),
    ("mcnet/printing/apps.py", "ready"),
    ("facilities/apps.py", "ready"),
    ("groups/apps.py", "ready"),
    ("enrollment/apps.py", "ready"),
    ("devices/apps.py", "ready"),
}


def _imports_in_functions(path: Path):
    """(function, line, module) of each import of a project module inside a function."""
    tree = ast.parse(path.read_text(), filename=str(path))
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.ImportFrom):
                modules = [("." * node.level) + (node.module or "")]
            elif isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            else:
                continue
            for module in modules:
                if module.startswith(".") or module.split(".")[0] in APPS:
                    yield function.name, node.lineno, module


def test_no_module_of_the_project_is_imported_inside_a_function():
    """An import inside a function hides a cycle (between apps, or between an app's services
    and tasks) from import-linter and from the reader: imports stay at module level."""
    found = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.relative_to(ROOT).parts:
                continue
            relative = path.relative_to(ROOT).as_posix()
            for function, line, module in _imports_in_functions(path):
                if (relative, function) not in IMPORTS_IN_FUNCTIONS_ALLOWED:
                    found.append(f"{relative}:{line} {function}() imports {module}")
    assert found == []


def test_the_import_walk_sees_an_import_inside_a_function(tmp_path):
    module = tmp_path / "example.py"
    module.write_text(
        "import os\n\ndef f():\n    from groups.models import Group\n    import json\n"
        "    from .selectors import x\n"
    )
    assert list(_imports_in_functions(module)) == [
        ("f", 4, "groups.models"),
        ("f", 6, ".selectors"),
    ]
