"""PDF rendering of bills and documents."""
