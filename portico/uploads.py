"""The HTTP side of file uploads (the GraphQL multipart request spec) on `/graphql`.

A plain HTML form can post multipart/form-data across sites without a CORS preflight; a
request carrying a header of our own cannot. So a multipart POST must name one of
UPLOAD_HEADERS, and it is refused before its body is read otherwise. Its declared length
bounds what is parsed (and spooled to disk): one request carries at most MAX_UPLOAD_BYTES
of files plus a small envelope; a file over the limit within that envelope is refused by
the mutation as TOO_LARGE, with nothing stored.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from core.settings import Settings

UPLOAD_HEADERS = ("apollo-require-preflight", "x-portico-upload")
ENVELOPE_BYTES = 64 * 1024  # operations, map and part headers around the file


def is_multipart(request: Request) -> bool:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return content_type == "multipart/form-data"


def multipart_refusal(request: Request, settings: Settings) -> Response | None:
    """Why a multipart POST is refused, as the response to send; None to go ahead."""
    if request.method != "POST" or not is_multipart(request):
        return None
    if not any(request.headers.get(name) for name in UPLOAD_HEADERS):
        return _refuse(
            400,
            "UPLOAD_HEADER_REQUIRED",
            "A multipart request must send the header `X-Portico-Upload: 1` "
            "(or `Apollo-Require-Preflight: true`).",
        )
    length = request.headers.get("content-length", "")
    if not length.isdigit():
        return _refuse(411, "LENGTH_REQUIRED", "A multipart request must declare its length.")
    if int(length) > settings.max_upload_bytes + ENVELOPE_BYTES:
        return _refuse(
            413, "TOO_LARGE", f"An upload may be at most {settings.max_upload_bytes} bytes."
        )
    return None


def _refuse(status: int, code: str, message: str) -> Response:
    body = {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]}
    return JSONResponse(body, status_code=status)
