"""All SQL of newsbot (aiosqlite): connection and migrations in `db`, one module per table family."""
