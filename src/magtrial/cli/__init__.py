"""Typer + Rich command line: thin commands over the services; domain errors become one clear line."""
