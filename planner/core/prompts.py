"""Prompt templates: jinja2 files in `prompts/` (or `--prompts DIR`), rendered strictly and sandboxed.

StrictUndefined turns a misspelt variable into an error instead of an empty string in
a prompt; a user's folder overrides our templates file by file. Templates render in
jinja2's sandbox, so a template (ours or one a user was sent) can format text but not
reach Python internals: `{{ ''.__class__ }}`-style escapes to run commands fail with a
one-line error, even under --dry-run.

A user's template is read like any user file (planner.inputs): a regular file inside
the folder, never through a link out of it, so `_rules.j2 -> ~/.ssh/id_rsa` or an
`{% include %}` of such a link cannot send a file to a model endpoint. And a template
cannot loop or grow without bound: every loop pass and call counts against a step
budget and a deadline, string and list products and concatenations are sized before
they are made, and the output is capped; past a limit the render stops with one line.
"""

from __future__ import annotations

import os
import re
import threading
import time
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from jinja2.compiler import CodeGenerator
from jinja2.loaders import split_template_path
from jinja2.sandbox import SandboxedEnvironment

from planner.errors import UsageError
from planner.inputs import read_user_file

PROMPTS_DIR = Path(__file__).resolve().parents[2] / "prompts"
MAX_TEMPLATE_BYTES = 1_000_000
MAX_CHARS = 4_000_000  # a prompt, or any string or list a template builds (a paper within a context window fits)
MAX_STEPS = 2_000_000  # loop passes and calls in one render (ours take a few hundred)
MAX_SECONDS = 10.0
_render = threading.local()


class _Limit(Exception):
    """A template went past one of the render limits."""


class _Budget:
    def __init__(self) -> None:
        self.steps = 0
        self.deadline = time.monotonic() + MAX_SECONDS

    def step(self) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise _Limit(f"took more than {MAX_STEPS:,} loop passes and calls")
        if self.steps % 4096 == 0 and time.monotonic() > self.deadline:
            raise _Limit(f"took longer than {MAX_SECONDS:g} s")


def _sized(value: Any) -> Any:
    if isinstance(value, (str, list, tuple)) and len(value) > MAX_CHARS:
        raise _Limit(f"built a value of more than {MAX_CHARS:,} items")
    return value


def _room(size: int) -> None:
    """Refuse an operation before it builds something larger than any prompt."""
    if size > MAX_CHARS:
        raise _Limit(f"would build a value of {size:,} items (more than {MAX_CHARS:,})")


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


_PRINTF_WIDE = re.compile(r"%[-+ #0]*(\d{7,}|\.\d{7,}|\*)")
_FORMAT_WIDE = re.compile(r"\{[^{}]*:[^{}]*\d{7,}[^{}]*\}")


def _estimate(name: str, target: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Size up the operations whose result can dwarf their inputs (a width, a count, a replacement), by the
    name they have as a str method or a filter, before they run."""
    text = target if isinstance(target, str) else ""
    first = args[0] if args else None
    if name in ("ljust", "rjust", "center", "zfill"):
        _room(_int(first if first is not None else kwargs.get("width")))
    elif name == "expandtabs":
        _room(len(text) + text.count("\t") * _int(first if first is not None else kwargs.get("tabsize", 8)))
    elif name in ("replace", "do_replace") and len(args) >= 2 and isinstance(args[1], str):
        old, new = str(args[0]), args[1]
        _room(len(text) + (text.count(old) if old else len(text) + 1) * max(len(new) - len(old), 0))
    elif name in ("join", "do_join"):  # str.join(items) and the join filter (items, separator)
        items, separator = (first, target) if isinstance(target, str) else (target, first)
        if isinstance(items, (list, tuple)):
            width = len(separator) if isinstance(separator, str) else 0
            _room(sum(len(x) if isinstance(x, str) else 24 for x in items) + width * len(items))
    elif name == "do_indent":
        _room(len(text) + (text.count("\n") + 1) * _int(first if first is not None else kwargs.get("width", 4)))
    elif name in ("do_batch", "do_slice", "do_center"):
        _room(_int(first if first is not None else 0))
    elif (name in ("format", "format_map") and _FORMAT_WIDE.search(text)) or \
            (name == "do_format" and _PRINTF_WIDE.search(text)):
        raise _Limit("formats a field a million characters wide")


class _Counted(CodeGenerator):
    """jinja2's code generator with a step at the top of every block (so every loop pass counts) and each
    `~` concatenation sized."""

    def blockvisit(self, nodes: Any, frame: Any) -> None:
        self.writeline("environment.step()")
        super().blockvisit(nodes, frame)

    def visit_Concat(self, node: Any, frame: Any) -> None:
        self.write("environment.sized(")
        super().visit_Concat(node, frame)
        self.write(")")


class _Sandbox(SandboxedEnvironment):
    """The sandbox, with bounded work and sizes."""

    code_generator_class = _Counted
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.filters = {name: _bounded_filter(f) for name, f in self.filters.items()}

    @staticmethod
    def step() -> None:
        budget = getattr(_render, "budget", None)
        if budget is not None:
            budget.step()

    sized = staticmethod(_sized)

    def call(self, context: Any, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        self.step()
        method = getattr(obj, "__wrapped__", obj)  # str.format comes wrapped by the sandbox
        _estimate(getattr(method, "__name__", ""), getattr(method, "__self__", None), args, kwargs)
        return _sized(super().call(context, obj, *args, **kwargs))

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        self.step()
        sequence = (str, list, tuple)
        if operator == "*" and isinstance(left, sequence) and _int(right):
            _room(len(left) * _int(right))
        elif operator == "*" and isinstance(right, sequence) and _int(left):
            _room(len(right) * _int(left))
        elif operator == "**" and abs(_int(left)) > 1 and _int(right) > 10_000:
            raise _Limit("raised a number to a power over 10,000")
        elif operator == "+" and isinstance(left, sequence) and isinstance(right, sequence):
            _room(len(left) + len(right))
        elif operator == "%" and isinstance(left, str) and _PRINTF_WIDE.search(left):
            raise _Limit("formats a field a million characters wide")
        return _sized(super().call_binop(context, operator, left, right))


def _bounded_filter(f: Any) -> Any:
    name = getattr(f, "__name__", "")

    def bounded(*args: Any, **kwargs: Any) -> Any:
        _Sandbox.step()
        values = [a for a in args if not isinstance(a, (jinja2.Environment, jinja2.runtime.Context,
                                                         jinja2.nodes.EvalContext))]
        if values:
            _estimate(name, values[0], tuple(values[1:]), kwargs)
        return _sized(f(*args, **kwargs))

    bounded.__dict__.update(getattr(f, "__dict__", {}))  # keeps jinja2's pass_context/pass_environment marks
    bounded.__name__ = name or "filter"
    return bounded


class _UserFolder(jinja2.BaseLoader):
    """Templates from a user's folder, read as user files: regular files inside it, links out refused."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Any]:
        path = self.folder.joinpath(*split_template_path(template))
        if not path.is_symlink() and not path.exists():
            raise jinja2.TemplateNotFound(template)
        data = read_user_file(path, "--prompts template", MAX_TEMPLATE_BYTES, within=self.folder,
                              hint="give a folder of .j2 text files")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise UsageError(f"--prompts template {path}: not UTF-8 text") from None
        mtime = os.stat(path).st_mtime_ns
        return text, str(path), lambda: os.path.exists(path) and os.stat(path).st_mtime_ns == mtime


@cache
def _environment(override: Path | None) -> jinja2.Environment:
    loader: jinja2.BaseLoader = jinja2.FileSystemLoader(str(PROMPTS_DIR))
    if override is not None:
        if not override.is_dir():
            raise UsageError(f"--prompts {override}: no such folder; give a folder of .j2 templates")
        loader = jinja2.ChoiceLoader([_UserFolder(override), loader])
    return _Sandbox(loader=loader, undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False)


def _generate(name: str, override: Path | None, variables: dict[str, Any]) -> str:
    _render.budget = _Budget()
    try:
        parts, size = [], 0
        for chunk in _environment(override).get_template(f"{name}.j2").generate(**variables):
            size += len(chunk)
            if size > MAX_CHARS:
                raise _Limit(f"wrote more than {MAX_CHARS:,} characters")
            parts.append(chunk)
        return "".join(parts)
    finally:
        _render.budget = None


def render(name: str, override: Path | None = None, **variables: Any) -> str:
    try:
        return _generate(name, override, variables).strip()
    except _Limit as exc:
        raise UsageError(f"prompt template {name}.j2 {exc}; a prompt template must stay within its limits "
                         f"({MAX_STEPS:,} steps, {MAX_SECONDS:g} s, {MAX_CHARS:,} characters)") from None
    except jinja2.TemplateNotFound as exc:
        raise UsageError(f"prompt template {exc.name!r} not found in {override or PROMPTS_DIR}") from None
    except jinja2.UndefinedError as exc:
        raise UsageError(f"prompt template {name}.j2 uses an undefined variable ({exc.message})") from None
    except jinja2.TemplateSyntaxError as exc:
        raise UsageError(f"prompt template {exc.filename}:{exc.lineno}: {exc.message}") from None
    except jinja2.exceptions.SecurityError as exc:
        raise UsageError(f"prompt template {name}.j2 tried an unsafe operation ({exc}); templates may only "
                         "format the variables they are given") from None
    except UsageError:
        raise
    except MemoryError:
        raise UsageError(f"prompt template {name}.j2 ran out of memory; a prompt template must stay small") from None
    except Exception as exc:  # a user's template can fail in any way an expression can
        raise UsageError(f"prompt template {name}.j2 failed: {type(exc).__name__}: {exc}") from None
