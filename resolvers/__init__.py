"""What fields and mutations do: thin functions between the schema and the models."""
