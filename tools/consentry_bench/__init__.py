"""``make bench``: Consentry measured on its real stack, beside this machine's references."""
