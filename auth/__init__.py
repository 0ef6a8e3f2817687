"""Who is asking (viewer, sessions, tokens) and what they may see (permissions, access)."""
