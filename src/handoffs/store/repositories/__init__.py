"""Repositories: map canonical objects to and from the tables, one class per concern."""
