"""The enforcer: a faust-streaming consumer group of its own that tells downstream AI
systems which (track, purpose) answers changed, from the log the materialiser applies."""
