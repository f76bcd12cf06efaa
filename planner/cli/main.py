"""The command line: argument parsing, dispatch, and turning every failure into one line.

Only argparse and the standard library are imported at start-up; each command's
handler imports its stage (and the SDKs) when it runs, so `--help` stays fast. Every
option is checked by its type here, before any work or progress bar starts.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Sequence
from pathlib import Path

from planner import __version__
from planner.errors import PlannerError, UsageError


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line that names the fix, exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message}; see '{self.prog} --help'")


def _number(kind: type, low: float, low_ok: bool, what: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if not math.isfinite(value) or value < low or (value == low and not low_ok):
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}")
        return value

    return parse


SECONDS = _number(float, 0, False, "a positive number of seconds")
POSITIVE = _number(int, 1, True, "a whole number of at least 1")
COUNT = _number(int, 0, True, "a whole number of at least 0")
TEMPERATURE = _number(float, 0, True, "a temperature of at least 0")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default="outputs", help="output folder (default: outputs)")
    p.add_argument("--verbose", "-v", action="store_true", help="show the library's log (retries, requests, batches)")


def _run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--task", choices=("author", "reviewer"), default="author",
                   help="author: plan ablations for a paper with its ablations hidden (default); "
                        "reviewer: find ablations missing from a paper")
    p.add_argument("--num-ablations", type=POSITIVE, metavar="N",
                   help="exact number of ablations, 1 to 10 (default 5 for author, 2 for reviewer)")
    p.add_argument("--base-url", help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1")
    p.add_argument("--temperature", type=TEMPERATURE, help="sampling temperature (models that take one)")
    p.add_argument("--seed", type=int, help="sampling seed: best effort (OpenAI marks it deprecated; Anthropic "
                                            "has none)")
    p.add_argument("--max-tokens", type=POSITIVE, metavar="N",
                   help="output token limit per request, reasoning included (default: the model's, 4096, or "
                        "32000 for reasoning models; see 'planner models')")
    p.add_argument("--context-window", type=POSITIVE, metavar="TOKENS",
                   help="the model's context size, when it is smaller than planner assumes (a local server's "
                        "--n_ctx); the paper is shortened to fit")
    p.add_argument("--prompts", type=Path, metavar="DIR",
                   help="folder of prompt templates overriding prompts/ file by file (rendered in jinja2's sandbox)")
    p.add_argument("--max-repairs", type=COUNT, default=2, metavar="K",
                   help="repair turns after a plan that breaks the rules (default 2)")
    p.add_argument("--timeout", type=SECONDS, metavar="SECONDS",
                   help="total time limit per request: connect, send and the whole answer (default 120, or 600 "
                        "for reasoning models)")
    p.add_argument("--force", action="store_true",
                   help="plan again even if the card exists, asking the model again (no cached answers)")
    p.add_argument("--no-cache", action="store_true", help="always send requests; do not reuse stored answers")
    _common(p)


def _driver_options(p: argparse.ArgumentParser, file_mode: bool) -> None:
    modes = ("sync", "batch-api", "batch-file") if file_mode else ("sync", "batch-api")
    p.add_argument("--via", choices=modes, default="sync",
                   help="sync: one request at a time per job (default); batch-api: OpenAI and Anthropic jobs "
                        "through their batch engines at half price (others run synchronously)"
                        + ("; batch-file: write and read files for vLLM's run-batch" if file_mode else ""))
    p.add_argument("--poll-interval", type=SECONDS, default=30.0, metavar="SECONDS",
                   help="seconds between batch status checks (default 30)")
    p.add_argument("--no-wait", action="store_true", help="submit the batches and exit; run again to collect")
    p.add_argument("--adopt", metavar="BATCH_ID",
                   help="batch-api: the batch that is ours, when planner names several that could be the one a "
                        "stopped run created")
    p.add_argument("--concurrency", type=POSITIVE, default=4, help="synchronous requests in flight (default 4)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="planner", description="Propose ranked ablation studies for ML papers with an LLM, "
                     "and write them as AblationBench-style trajectory cards.")
    parser.add_argument("--version", action="version", version=f"planner {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("run", help="plan ablations for one paper with one model")
    p.add_argument("--paper", required=True,
                   help="a paper id from 'planner papers', or a .md/.txt/.tex/.pdf file or LaTeX folder")
    p.add_argument("--model", required=True, help="a model from 'planner models', or provider:model-id")
    p.add_argument("--dry-run", action="store_true", help="print the request and a token estimate; send and write nothing")
    _run_options(p)

    p = sub.add_parser("batch", help="plan ablations for many papers and models")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--papers", help="comma-separated paper ids or paths")
    which.add_argument("--papers-file", type=Path, help="file with one paper id or path per line")
    which.add_argument("--all", action="store_true", help="every paper in the library")
    p.add_argument("--models", required=True, help="comma-separated models")
    _driver_options(p, file_mode=True)
    p.add_argument("--cancel", action="store_true",
                   help="cancel every unfinished batch of the output folder and exit (rerunning buys the cancelled "
                        "requests again)")
    p.add_argument("--emit", type=Path, metavar="FILE", help="batch-file: write this round's requests here")
    p.add_argument("--collect", type=Path, metavar="FILE", help="batch-file: read vLLM run-batch results from here")
    _run_options(p)

    p = sub.add_parser("import-cards", help="read trajectory cards into structured JSON")
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="card files or folders (searched recursively)")
    p.add_argument("--force", action="store_true", help="replace stored trajectories that differ from the cards")
    _common(p)

    p = sub.add_parser("regenerate", help="rewrite cards, index and site from stored trajectories")
    _common(p)

    p = sub.add_parser("models", help="list the known models")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("papers", help="list the papers in the library")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("eval", help="score stored plans against the papers' ground truth")
    p.add_argument("--papers", help="comma-separated paper ids (default: all with ground truth)")
    p.add_argument("--models", help="comma-separated model names (default: all)")
    p.add_argument("--task", choices=("author", "reviewer"), default="author")
    p.add_argument("--judge", required=True, help="'offline', a model, or several (a,b,c) for a majority vote")
    p.add_argument("--top-k", type=POSITIVE, metavar="K", help="score only the first K ablations of each plan")
    p.add_argument("--ground-truth", type=Path, metavar="DIR",
                   help="score against your own ground truth: one <paper>.json per paper in the library's format "
                        "(evidence fields optional) instead of the library's")
    p.add_argument("--json", action="store_true", help="print one JSON row per trajectory")
    p.add_argument("--base-url", help="OpenAI-compatible endpoint for an LM judge")
    p.add_argument("--timeout", type=SECONDS, metavar="SECONDS",
                   help="time limit per judge request (default 120, or 600 for reasoning models)")
    p.add_argument("--max-repairs", type=COUNT, default=2, metavar="K", help="repair turns for a judge's answer")
    p.add_argument("--no-cache", action="store_true")
    _driver_options(p, file_mode=False)
    _common(p)

    p = sub.add_parser("export", help="write plans in AblationBench's planner output format")
    p.add_argument("--task", choices=("author", "reviewer"), default="author")
    p.add_argument("--to", type=Path, help="target folder (default: OUT/export/<task>)")
    _common(p)
    return parser


# command -> the module under planner.cli that handles it (imported only when that command runs)
HANDLERS = {"run": "plan", "batch": "batch", "import-cards": "cards", "regenerate": "cards", "export": "cards",
            "models": "library", "papers": "library", "eval": "evaluate"}


def _handler(name: str) -> Callable[[argparse.Namespace], int]:
    import importlib

    module = importlib.import_module(f"planner.cli.{HANDLERS[name]}")
    return getattr(module, "cmd_" + name.replace("-", "_"))


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:  # --help and --version leave inside parse_args, before anything heavier is imported
        args = parser.parse_args(argv)
    except UsageError as exc:
        from planner.cli import console

        console.error(str(exc))
        return exc.exit_code
    from planner.cli import console

    try:
        console.setup_logging(getattr(args, "verbose", False))
        if args.command is None:
            parser.print_help()
            return 2
        if getattr(args, "no_wait", False) and args.via == "sync":  # batch and eval share the driver options
            raise UsageError("--no-wait belongs to --via batch-api")
        if getattr(args, "adopt", None) and args.via != "batch-api":
            raise UsageError("--adopt belongs to --via batch-api")
        return _handler(args.command)(args)
    except PlannerError as exc:
        console.error(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        console.err("planner: interrupted")
        return 130
    except OSError as exc:  # disk full, read-only --out, permissions: the work failed, say where
        where = f" {exc.filename}" if exc.filename else ""
        console.error(f"cannot write or read{where}: {exc.strerror or exc}; check the path and free space")
        return 1
    except Exception as exc:  # a bug: still one line; the traceback is in the --verbose log
        import logging
        import traceback

        logging.getLogger(__name__).debug("%s", traceback.format_exc())
        console.error(f"internal error: {type(exc).__name__}: {exc} (run with --verbose for details)")
        return 1
