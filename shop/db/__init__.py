"""The database: transaction helpers, prepared lookups, engines, the app user's grants, migration safety, the cache."""
