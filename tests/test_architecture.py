"""The layout holds: stage folders, imports pointing down, no import circle, no oversized module or class.

Imports are read from the source (inside functions too), so a lazy import that climbs
back up a layer or closes a circle is caught as surely as one at the top of a file.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).parents[1] / "planner"
# Lowest first: a module may import its own folder or anything listed before it.
LAYERS = [
    {"errors", "secrets", "inputs"},
    {"core"},
    {"prices", "registry"},
    {"papers"},
    {"providers"},
    {"cards"},
    {"run"},
    {"eval"},
    {"cli"},
    {"__main__"},
]
TOP_LEVEL_LIMIT = 8
MODULE_LINES = 400
CLASS_LINES = 150


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = _modules()


def _imported_names(path: Path) -> set[str]:
    """Every module `path` imports, wherever the import statement sits (`from a import b` names a and a.b,
    since b may be a module: `from planner.cards import store`)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def _imports(path: Path) -> set[str]:
    """Every planner module `path` imports."""
    return {n for n in _imported_names(path) if n in MODULES and n.startswith("planner.")}


GRAPH = {name: _imports(path) - {name} for name, path in MODULES.items()}


def _stage(module: str) -> str:
    return module.split(".")[1] if "." in module else ""


def _layer(module: str) -> int:
    stage = _stage(module)
    return next(i for i, names in enumerate(LAYERS) if stage in names)


def test_every_module_belongs_to_a_layer():
    assert {_stage(m) for m in MODULES if m != "planner"} <= set().union(*LAYERS)


def test_imports_point_down():
    upward = [f"{m} -> {t}" for m, targets in GRAPH.items() if m != "planner" for t in targets
              if _layer(t) > _layer(m) and _stage(t) != _stage(m)]
    assert not upward


def _cycles() -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in GRAPH:
        if v not in index:
            visit(v)
    return found


def test_no_import_circle():
    assert not _cycles()


def test_the_cycle_finder_finds_a_cycle():
    GRAPH["planner.errors"].add("planner.secrets")
    GRAPH["planner.secrets"].add("planner.errors")
    try:
        assert _cycles() == [["planner.errors", "planner.secrets"]]
    finally:
        GRAPH["planner.errors"].discard("planner.secrets")
        GRAPH["planner.secrets"].discard("planner.errors")


def test_stage_folders_and_few_top_level_modules():
    folders = [p for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()]
    top = [p for p in PACKAGE.glob("*.py")]
    assert len(folders) >= 5 and len(top) <= TOP_LEVEL_LIMIT
    for folder in folders:  # each stage says what it does and offers
        doc = ast.get_docstring(ast.parse((folder / "__init__.py").read_text(encoding="utf-8")))
        assert doc and len(doc.splitlines()) >= 2, folder


def test_no_oversized_module_or_class():
    too_long = [f"{m}: {len(p.read_text().splitlines())} lines" for m, p in MODULES.items()
                if len(p.read_text(encoding="utf-8").splitlines()) > MODULE_LINES]
    big_classes = [f"{m}.{node.name}: {node.end_lineno - node.lineno + 1} lines"
                   for m, p in MODULES.items() for node in ast.walk(ast.parse(p.read_text(encoding="utf-8")))
                   if isinstance(node, ast.ClassDef) and node.end_lineno - node.lineno + 1 > CLASS_LINES]
    assert not too_long and not big_classes


def test_only_the_cli_prints():
    printing = [m for m, p in MODULES.items() if not m.startswith("planner.cli")
                for node in ast.walk(ast.parse(p.read_text(encoding="utf-8")))
                if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print"]
    assert not printing


def test_tests_mirror_the_package():
    tests = Path(__file__).parent
    for folder in (p for p in PACKAGE.iterdir() if (p / "__init__.py").exists() and p.name != "__pycache__"):
        assert list((tests / folder.name).glob("test_*.py")), f"no tests/{folder.name}/"


def test_only_providers_import_the_sdks():
    speaking = [m for m, p in MODULES.items() if not m.startswith("planner.providers")
                for name in _imported_names(p) if name.split(".")[0] in ("openai", "anthropic", "httpx", "httpx2")]
    assert not speaking


WRITE_FLAGS = {"O_WRONLY", "O_RDWR", "O_CREAT", "O_APPEND", "O_TRUNC"}
CHANGING_METHODS = {"write_text", "write_bytes", "touch", "unlink", "rmdir", "mkdir", "symlink_to", "hardlink_to",
                    "savefig", "to_csv"}
CHANGING_CALLS = {("os", "remove"), ("os", "unlink"), ("os", "rename"), ("os", "replace"), ("os", "makedirs"),
                  ("os", "mkdir"), ("os", "link"), ("os", "symlink"), ("os", "truncate"), ("os", "rmdir"),
                  ("shutil", "copy"), ("shutil", "copy2"), ("shutil", "copyfile"), ("shutil", "move"),
                  ("shutil", "rmtree"), ("tempfile", "mkstemp"), ("tempfile", "mkdtemp"),
                  ("tempfile", "NamedTemporaryFile"), ("tempfile", "TemporaryFile")}


def _mode(call: ast.Call, position: int) -> str | None:
    """The mode argument of an open()-like call: its text, "" when absent (read), None when not a literal."""
    node = call.args[position] if len(call.args) > position else next(
        (k.value for k in call.keywords if k.arg == "mode"), None)
    if node is None:
        return ""
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _in_memory(tree: ast.AST) -> set[str]:
    """Names bound to an in-memory buffer (`x = io.BytesIO()`): writing to them writes no file."""
    return {t.id for node in ast.walk(tree) if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
            and getattr(node.value.func, "attr", getattr(node.value.func, "id", "")) in ("BytesIO", "StringIO")
            for t in node.targets if isinstance(t, ast.Name)}


def _writes(call: ast.Call, buffers: set[str] = frozenset()) -> bool:
    """Whether a call opens a file for writing, or creates, changes or deletes one."""
    func = call.func
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
    owner = func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else ""
    if name == "open" and owner == "os":
        if call.args and isinstance(call.args[0], ast.Attribute) and call.args[0].attr == "devnull":
            return False  # the console points a closed stdout at /dev/null
        flags = {n.attr for n in ast.walk(call.args[1]) if isinstance(n, ast.Attribute)} if len(call.args) > 1 else set()
        return bool(flags & WRITE_FLAGS)
    if name in ("open", "fdopen"):
        mode = _mode(call, 0 if isinstance(func, ast.Attribute) and owner not in ("os", "io") else 1)
        return mode is None or bool(set(mode) & set("wax+"))
    if name == "savefig" and call.args and isinstance(call.args[0], ast.Name) and call.args[0].id in buffers:
        return False
    return name in CHANGING_METHODS or (owner, name) in CHANGING_CALLS


def test_only_the_output_folder_stage_writes_files():
    """Every write under --out goes through planner.cards (its store: atomic, no links, no in-place write
    through a hard link, the umask honoured); nothing else opens a file for writing or deletes one."""
    writing = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if not module.startswith("planner.cards"):
            writing += [f"{module}:{node.lineno}" for node in ast.walk(tree)
                        if isinstance(node, ast.Call) and _writes(node, _in_memory(tree))]
    assert not writing


def test_the_write_finder_finds_writes():
    calls = ['open(p, "a")', 'p.open("w")', 'open(p, mode="x")', 'os.open(p, os.O_WRONLY | os.O_CREAT)',
             'os.fdopen(fd, "wb")', "p.write_text('x')", "p.unlink()", "shutil.move(a, b)", "tempfile.mkstemp()",
             "open(p, m)", "fig.savefig('chart.png')"]
    reads = ["open(p)", 'open(p, "rb")', 'p.open("r", encoding="utf-8")', "os.open(p, os.O_RDONLY)",
             'os.fdopen(fd, "rb")', "os.open(os.devnull, os.O_WRONLY)", "p.read_text()"]
    assert all(_writes(ast.parse(c).body[0].value) for c in calls)
    assert not any(_writes(ast.parse(c).body[0].value) for c in reads)
