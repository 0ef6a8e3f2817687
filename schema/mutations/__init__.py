"""Root mutation fields, one module per domain, merged in schema/root.py."""
