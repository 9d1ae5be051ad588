"""A reference downstream AI system: a training-set manifest kept current with consent,
with receipts that prove it (``python -m consentry_example_downstream``)."""
