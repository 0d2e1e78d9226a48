"""Front ends of the command line that are not the app: record (headless), import and report, printing what
the services compute."""
