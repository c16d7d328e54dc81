"""What every app shares, below them all: access tables, database helpers, text rules, parsing, paging, filtering,
throttles, mail and the queue, the exception handler and the schema's extensions. It imports no app."""
