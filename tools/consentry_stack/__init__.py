"""Local infrastructure for development and tests: real Kafka and Redis on loopback.

Used by ``make up`` (``consentry-stack up``) and by the test suite, so both run the
same servers the same way: Apache Kafka in KRaft mode from Maven Central jars, Debian's
redis-server, each on free loopback ports with a temporary data directory.
"""
