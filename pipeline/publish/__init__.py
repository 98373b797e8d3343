"""Publishing: stored results to tables, verdicts, charts and pages. Reads files,
never a framework (a test runs every command here with framework imports blocked)."""
