"""Plans out: the trajectory card format, the output folder and everything written under it.

It offers the card writer and reader (`card`), the folder's rules: claim, lock, no
links (`outdir`), atomic writes and where each file lives (`store`), and the derived
files: index, site (which reads the latest evaluation as data: `evaldata`) and
`regenerate`. Every write under `--out` goes through `store`.
"""
