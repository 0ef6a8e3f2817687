"""Appointments: staff schedule, move, confirm and cancel them; portal viewers ask for
them; the customer's people hear of what changes."""
