"""Turning free text into entities, keywords, classes and time hints."""
