"""Helpers shared by test modules (builders of documents and GGUF files, local servers)."""
