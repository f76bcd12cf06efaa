"""`python -m planner`: see planner.cli."""

from planner.cli.main import main

if __name__ == "__main__":  # a worker process importing this module must not run the CLI again
    raise SystemExit(main())
