"""svcdesk: an after-sales service desk whose tickets are YAML files in git."""

__version__ = "0.1.0"
