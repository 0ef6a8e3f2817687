"""The customer portal: who may use it (invites, revocation), signing in, the business's
portal settings, and each viewer's own record."""
