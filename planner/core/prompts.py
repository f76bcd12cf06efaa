"""Prompt templates: jinja2 files in `prompts/` (or `--prompts DIR`), rendered strictly and sandboxed.

StrictUndefined turns a misspelt variable into an error instead of an empty string in
a prompt; a user's folder overrides our templates file by file. Templates render in
jinja2's sandbox, so a template (ours or one a user was sent) can format text but not
reach Python internals: `{{ ''.__class__ }}`-style escapes to run commands fail with a
one-line error, even under --dry-run.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from planner.errors import UsageError

PROMPTS_DIR = Path(__file__).resolve().parents[2] / "prompts"


@cache
def _environment(override: Path | None) -> jinja2.Environment:
    folders = [str(PROMPTS_DIR)]
    if override is not None:
        if not override.is_dir():
            raise UsageError(f"--prompts {override}: no such folder; give a folder of .j2 templates")
        folders.insert(0, str(override))
    return SandboxedEnvironment(
        loader=jinja2.FileSystemLoader(folders),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
    )


def render(name: str, override: Path | None = None, **variables: Any) -> str:
    try:
        return _environment(override).get_template(f"{name}.j2").render(**variables).strip()
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
    except Exception as exc:  # a user's template can fail in any way an expression can
        raise UsageError(f"prompt template {name}.j2 failed: {type(exc).__name__}: {exc}") from None
