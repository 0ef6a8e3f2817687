"""Email delivery: the transactional outbox, branded templates, transports and the worker."""
