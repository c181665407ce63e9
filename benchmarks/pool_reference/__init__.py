"""The pooling implementation as it was before issue 13 (commit ccdc0e3), kept verbatim as the peer of the
benchmark and the reference of ``tests/test_pooling_fast.py``: the faster paths must give its numbers."""
