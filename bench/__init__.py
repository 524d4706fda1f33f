"""Benchmarks that print figures: `python -m bench.<name>`, or `make bench` for all."""
