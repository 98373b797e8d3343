"""Measuring: the harness around one cell, the worker process that imports exactly
one framework, the timed protocols, per-framework backends, hardware detection,
the timer check and the live ecosystem figures. The only package that may import
a framework, and only inside a measured process."""
