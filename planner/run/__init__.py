"""Running jobs: one paper x one model x one task, through the synchronous or the batch driver.

It offers the plan task (`task`), jobs and how they end (`jobs`), the response cache,
the synchronous driver (`sync`), many jobs at once (`sweep`), and the batch driver
(`batching`) with its manifest. Money is spent here, so never twice for one answer.
"""
