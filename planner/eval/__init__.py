"""Scoring stored plans: judges (offline, LM, majority), AblationBench's metrics, reports and export.

It offers `evaluate` (which plans, which ground truth, which judge), the judges
(`offline`, `judges`), `metrics`, `report` (report.md, results and chart) and
`export` (AblationBench's planner output format).
"""
