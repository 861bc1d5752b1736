"""Side-by-side benchmarks (issue 6). Run `make bench` or `.venv/bin/python -m benchmarks.run`.

Not tests: pytest collects only tests/ (pyproject testpaths), and nothing here is named test_*.
"""
