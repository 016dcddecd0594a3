"""The database: transactions, prepared lookups, engines, the app user's grants, migration check, cache."""
