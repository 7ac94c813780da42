"""The `tradeassist` command: composes core, api and bots into processes (the only place all three meet)."""
