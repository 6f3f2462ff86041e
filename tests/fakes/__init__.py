"""Local fakes of outside services (threat-intelligence APIs, Log Analytics) for tests."""
