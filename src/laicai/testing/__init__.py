"""Builders and fakes for laicai's own tests (and for users testing strategies on the simulator)."""
