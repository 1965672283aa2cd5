"""Performance benchmarks of the simulator (``python -m benchmarks.run``); not part of the
test suite and never asserted on in CI."""
