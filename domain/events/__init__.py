"""Community events: staff plan, publish and cancel them; portal viewers answer; the
people concerned are invited, told and reminded by email."""
