"""Alerting: rules evaluated over rollup windows (or new mentions), a state machine, silences.

Pure decisions: `windows` (slots, window sums), `baseline` (robust volume baseline),
`conditions` (a rule's observation of a window), `state` (next_state, next_digest),
`payload` (the message), `backtest` (replaying a rule). Use cases with SQL: `rules`,
`silences`, `evaluation` (one rule, one slot, once), and `backtest.run_backtest`.
"""
