"""HOW a carry is opened, closed and reset: two legs at once, never left naked, every intent
journaled before it is sent, every outcome looked up by its client order id."""
