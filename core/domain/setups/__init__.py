"""Intraday setups: the per-symbol session state (`session`), its many-symbol numpy twin (`batch`) and the setup
rules over it (`rules`)."""
