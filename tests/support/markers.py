"""Markers for tests that need a database server rather than SQLite."""

import pytest
from django.db import connection

requires_server_db = pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="needs a database server (MariaDB or PostgreSQL): row locks and network outages "
    "do not exist on in-memory SQLite; the MariaDB and PostgreSQL runs execute this test",
)
