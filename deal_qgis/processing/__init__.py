"""QGIS Processing: the ``deal`` provider with ``deal:detect`` and ``deal:encode``."""
