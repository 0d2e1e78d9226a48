"""SQLite history: schema and migrations, ingest of telegrams, queries, imports of captures and Fluvius CSV."""
