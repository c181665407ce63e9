"""Rule and evidence tables shipped with the package (TOML), and the loaders that read them.

Loading lives here, outside ``magtrial.core``, so the core stays free of file formats: loaders
parse the files into core dataclasses and hand those to the pure functions.
"""
