"""Vendor the OpenAI component schemas the contract tests need (run by hand when the spec changes).

Reads the specs in ../shared/contracts (see its README for their commits) and writes
openai-components.json: the named schemas and every schema they reference, as JSON Schema.
OpenAPI's `nullable: true` (used by the older spec) becomes a null type, which is what it means.

    python tests/data/contracts/extract.py ../shared/contracts
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

CURRENT = ("openai-openapi.json", "f85dbe223d40e1a31cba812ab2d755c7e98a92a3",
           ["CreateChatCompletionRequest", "CreateChatCompletionResponse", "CreateBatchRequest", "Batch"])
BATCH_LINES = ("openai-openapi-2025-04-batch-lines.yaml", "498c71ddf6f1c45b983f972ccabca795da211a3e",
               ["BatchRequestInput", "BatchRequestOutput"])


def _refs(node, found):
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            found.add(ref.rsplit("/", 1)[-1])
        for value in node.values():
            _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)


def _nullable(node):
    if isinstance(node, dict):
        node = {k: _nullable(v) for k, v in node.items()}
        if node.pop("nullable", False) is True:
            kind = node.get("type")
            if isinstance(kind, str):
                node["type"] = [kind, "null"]
            elif "enum" in node:
                node["enum"] = [*node["enum"], None]
            else:
                node = {"anyOf": [node, {"type": "null"}]}
        return node
    if isinstance(node, list):
        return [_nullable(v) for v in node]
    return node


def closure(schemas: dict, names: list[str]) -> dict:
    todo, kept = list(names), {}
    while todo:
        name = todo.pop()
        if name in kept:
            continue
        kept[name] = schemas[name]
        found: set[str] = set()
        _refs(schemas[name], found)
        todo += sorted(found - set(kept))
    return kept


def main(folder: Path) -> None:
    out = {"components": {"schemas": {}}, "sources": {}}
    for file, commit, names in (CURRENT, BATCH_LINES):
        text = (folder / file).read_text(encoding="utf-8")
        spec = json.loads(text) if file.endswith(".json") else yaml.safe_load(text)
        kept = closure(spec["components"]["schemas"], names)
        for name, schema in kept.items():
            out["components"]["schemas"].setdefault(name, _nullable(schema))
        out["sources"][file] = {"repository": "github.com/openai/openai-openapi", "commit": commit, "schemas": names}
    target = Path(__file__).with_name("openai-components.json")
    target.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{target}: {len(out['components']['schemas'])} schemas")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
