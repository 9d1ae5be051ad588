"""The artists' and rights holders' portal: sign in with a login link, see your works and
their answers per AI purpose, opt out or in, see the receipt, the history and its proof."""
