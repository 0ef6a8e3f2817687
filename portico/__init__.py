"""Portico: the GraphQL API of vehicle-service businesses and their customer portal."""
