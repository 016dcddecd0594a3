"""Observability: application metrics (CloudWatch EMF lines) and the request id on every log line."""
