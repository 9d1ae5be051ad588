"""The canary: the true end-to-end enforcement lag, measured continuously.

At a fixed interval it flips a dedicated canary party between allow and deny for the
``ai.canary`` purpose on its own track, through the public write API, and times how long
until the HTTP check service and an in-process SDK (with its cache) both give the new
answer. Operators page on it; it touches nothing but its own party and track.
"""
