"""The HTTP edge: middleware, health, errors and their handler, parsing, pagination, OpenAPI, rate limits."""
