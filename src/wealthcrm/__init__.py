"""wealthcrm: a CRM for the relationship managers of a retail bank branch."""

__version__ = "0.1.0"
