"""How Consentry talks to Kafka: connection settings and credentials, reading partitions
to their end, and asking the broker where each log ends now."""

from consentry_kafka.connection import KafkaClientSettings, KafkaConnection
from consentry_kafka.history import parties_history, party_history, party_records
from consentry_kafka.log_end import LogEnds
from consentry_kafka.records import LogRecord
from consentry_kafka.scan import all_partitions, partition_counts, partition_of, read_to_end

__all__ = [
    "KafkaClientSettings",
    "KafkaConnection",
    "LogEnds",
    "LogRecord",
    "all_partitions",
    "parties_history",
    "partition_counts",
    "partition_of",
    "party_history",
    "party_records",
    "read_to_end",
]
