"""The HTTP edge: middleware, health endpoints, the error family and its one handler, API parsing, pagination, filters, OpenAPI and the rate limiter."""
