"""The materialiser: a faust-streaming worker that applies the log to Redis."""
