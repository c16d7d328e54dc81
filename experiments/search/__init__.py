"""The search grammar of runs and the queries it builds: one grammar for every surface that filters runs."""
