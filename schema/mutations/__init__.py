"""Root mutation fields, one module per domain, merged in schema/__init__.py."""
