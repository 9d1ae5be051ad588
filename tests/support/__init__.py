"""Helpers shared by the test suites: ids, event builders, waiting with a deadline, the
log (producing, replaying), the state read back, and the running stack over HTTP."""
