"""``consentry-admin``: operators' commands -- signing keys, tokens, chain audits."""
