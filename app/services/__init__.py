"""Use cases. They take a session, call domain, xml and repositories, and never commit."""
