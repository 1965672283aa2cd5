"""The ``laicai`` command line."""
