"""Outbound webhooks: the OWNER's endpoints, events written in the transaction of their
cause (`emit`), and their signed delivery with retries (`delivery.py`)."""
