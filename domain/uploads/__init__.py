"""Files received with a mutation (documents, photos, message attachments): checked by
their bytes and stored within the limit before the row naming them is written."""
