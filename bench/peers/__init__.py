"""Benchmark peers: the product's hot endpoints built another way, only to be measured against it."""
