"""What every stored file carries. The bytes live in the storage backend (storage/), the
row names them: where (`storage_key`), what (`content_type`, `filename`), how big, and the
sha256 of the exact bytes."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class FileColumns(SQLModel):
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=100)
    size_bytes: int = Field(default=0, ge=0)
    sha256: str = Field(max_length=64)
    storage_key: str = Field(max_length=500)
