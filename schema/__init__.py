"""The GraphQL schema: types per domain, root fields, mutations; built in schema/root.py."""
