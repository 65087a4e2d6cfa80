"""Rendering of lapbench ASTs into the artefacts the rubric checks: SQLite DDL (`ddl`) and an OpenAPI 3.1
document (`openapi`)."""
