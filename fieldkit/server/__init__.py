"""The office server: its store, HTTP API, imports and administration commands."""
