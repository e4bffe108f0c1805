"""Schemas of the file formats read and written, one module per format."""
