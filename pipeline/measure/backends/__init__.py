"""Per-framework threads, precision, placement, synchronisation and memory figures.
A backend is imported only inside the process that measures its framework."""
