# The two commands a newcomer needs; both set up everything they use first.
.PHONY: run test lint

run:  ## set up, migrate, load demo data and serve on http://127.0.0.1:8000
	bash scripts/run.sh

test:  ## set up and run the whole test suite (SQLite, MariaDB, PostgreSQL, infrastructure)
	bash scripts/test.sh

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .
