"""The core: what a valid plan is, and the conversation that gets one from a model.

It offers the data model (`schema`), the plan rules with the JSON schema and repair
messages derived from them (`rules`), reading an answer (`parse`), the neutral
request and reply (`messages`), prompt rendering (`prompts`) and the step-function
`conversation`. Pure: no network, no files written; every stage above builds on it.
"""
