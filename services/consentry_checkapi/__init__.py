"""HTTP check service: the SDK's answers over HTTP, for AI features outside Python."""
