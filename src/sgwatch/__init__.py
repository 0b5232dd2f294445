"""sgwatch: exact, rule-level alerts for AWS security-group changes."""

__version__ = "0.1.0"
