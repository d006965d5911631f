"""Core services every module builds on: settings, storage, users and roles, errors, events."""
