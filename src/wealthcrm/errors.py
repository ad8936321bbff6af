"""Domain exceptions. The web layer maps them to HTTP statuses and the CLI to exit codes in one place."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a user can cause and fix; its message is shown as is."""


class NotFound(DomainError):
    """The thing asked for does not exist (or is outside the caller's scope)."""


class Conflict(DomainError):
    """The change clashes with stored data (a duplicate name, a stale version)."""


class Invalid(DomainError):
    """The input breaks a rule."""


class Forbidden(DomainError):
    """The caller's role may not do this."""
