"""`?page_size=` outside 1..100 is one 400 with one message, whichever side it falls (README)."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("page_size", ["0", "101", "500", "-1", "ten"])
def test_page_size_outside_one_to_a_hundred_is_a_400_with_the_same_message(api, page_size):
    response = api.get(f"/api/v1/points/transactions/?page_size={page_size}")
    assert response.status_code == 400
    assert response.json()["fields"] == {"page_size": ["Must be a whole number from 1 to 100."]}


def test_page_size_at_the_bounds_is_served(api):
    for page_size in ("1", "100"):
        assert api.get(f"/api/v1/points/transactions/?page_size={page_size}").status_code == 200
