"""The receipts tracker: which downstream systems owe a receipt for which change, what
they answered, and which are overdue."""
