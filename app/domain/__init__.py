"""Domain models and rules: pure Python and pydantic. No FastAPI, no SQLAlchemy, no I/O
beyond reading the package's own reference data.
"""
