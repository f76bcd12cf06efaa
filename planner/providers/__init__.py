"""Providers: the only place that speaks a wire format (OpenAI Chat Completions, Anthropic Messages, batches).

It offers `factory` (a model's adapter and batch engine), the adapters that turn a
`Request` into a wire body and an answer body into a `Reply`, the HTTP and SDK layer
with its deadline (`http`, `sdk`), retries (`retry`) and the batch engines (`batch`).
"""
