"""The organization: its details and branding, staff sign-in, and the onboarding steps it
asks of new portal customers."""
