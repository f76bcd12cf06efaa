"""The command line: parsing (`main`), one module per command group, and `console`, the only place that prints.

Commands import their stages only when they run, so `--help` stays fast; shared
helpers live in `common`, which every command module imports.
"""
