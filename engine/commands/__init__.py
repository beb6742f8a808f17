"""Command-line commands of ``deal`` that belong to no other package (see engine/cli.py)."""
