"""Write API: records consent decisions and catalogue changes as Kafka events.

It answers 202 only after the broker acknowledged the event with ``acks=all``, and the
answer carries a consistency token (partition and offset); anything less is an error.
"""
