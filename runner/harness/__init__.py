"""The tool-calling harness: schema normalisation for grammar engines (normalize.py)."""
