# The two commands a newcomer needs; both set up everything they use first. The quicker loop
# (`make check`, `make test-sqlite`) sets up the test tools too, so it works right after `make run`.
.PHONY: run test check test-sqlite lint

run:  ## set up, migrate, load demo data and serve on http://127.0.0.1:8000
	bash scripts/run.sh

test:  ## set up and run the whole test suite (SQLite, MariaDB, PostgreSQL, infrastructure, image)
	bash scripts/test.sh

check:  ## set up, then lint, types, import layers and migrations: no tests
	bash scripts/test.sh --check

test-sqlite:  ## set up, then the suite on SQLite only; T= names a file or a test (pytest syntax)
	bash scripts/test.sh --sqlite $(T)

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .
