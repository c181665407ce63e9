"""magtrial: randomized, blinded N-of-1 trials of magnesium for neuropathic pain.

Layout: ``core`` is the pure domain (no database, web or file formats); ``store``, ``service``,
``cli``, ``report`` and ``export`` are adapters that depend on it, never the other way round.
"""

__version__ = "0.1.0"
