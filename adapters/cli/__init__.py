"""The `nmem` command line."""
