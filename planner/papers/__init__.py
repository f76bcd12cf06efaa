"""Papers in: the library under `papers/`, a user's own file (text, LaTeX, PDF), ground truth, the leak guard.

It offers `Paper` and the readers that make one (`library`, `files`), the ablations
each library paper reports (`ground_truth`, read only by evaluation and the reviewer
prompt) and `leaks`, which checks that no summary gives those ablations away.
"""
