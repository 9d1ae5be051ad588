"""The portal's pages, one module per part of the site."""
