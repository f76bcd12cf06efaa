"""The batch driver: every job's next request goes out in one provider batch per round.

Split along its steps: stepping conversations from the cache (`rounds`), sending
shards (`send`), finding a batch whose id a kill lost (`adopt`), polling and
collecting answers (`collect`), and the loop that runs them (`driver`). Around it:
engines rebuilt from the manifest's names (`reach`), `--cancel` (`cancel`), and the
guard that keeps a synchronous run from buying what a batch is buying (`inflight`).
"""
