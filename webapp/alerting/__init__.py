"""Alerting: rules evaluated over rollup windows (or new mentions), a state machine, silences.

Rule kinds are a registry: `kinds` (one module per kind declaring its fields, checks,
evaluation and mode; the request shape, the form, evaluation and backtests look kinds up there).
Pure decisions: `windows` (slots, window sums), `baseline` (robust volume baseline),
`conditions` (a rule's observation of a window, by its kind), `state` (next_state, next_digest),
`payload` (the message), `backtest` (replaying a rule). Use cases with SQL: `rules`,
`silences`, `evaluation` (one rule, one slot, once), and `backtest.run_backtest`.
"""
