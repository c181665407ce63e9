"""Benchmarks: each ``bench_*.py`` prints medians and ratios against its peer, measured in one run."""
