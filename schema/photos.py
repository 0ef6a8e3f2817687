"""Photos of cars: the car's gallery, and the pictures of its condition reports."""

from datetime import datetime

import strawberry
from strawberry import Info

from auth.downloads import CAR_PHOTO
from models import tables
from resolvers.access_log import link
from schema.fields import object_field
from schema.node import Node, RowType, row_type


@row_type(tables.car_photos)
@strawberry.type(description="A photo of a car.")
class CarPhoto(RowType, Node):
    caption: str | None = strawberry.field(description="What the photo shows.")
    taken_at: datetime | None = strawberry.field(description="When it was taken (UTC).")
    position: int = strawberry.field(description="Place in the car's gallery, from 0.")
    visible_in_portal: bool = strawberry.field(description="Shown to the customer in the portal.")
    filename: str = strawberry.field(description="The name the file was uploaded with.")
    content_type: str = strawberry.field(description="MIME type, e.g. image/jpeg.")
    size_bytes: int = strawberry.field(description="File size in bytes.")
    sha256: str = strawberry.field(description="SHA-256 of the file, hex.")
    created_at: datetime = strawberry.field(description="When it was uploaded (UTC).")

    car = object_field("car_id", "Car", "schema.cars", "The car in the photo.")
    condition_report = object_field(
        "condition_report_id", "ConditionReport", "schema.cars", "The inspection it belongs to."
    )

    @strawberry.field(
        description="A link to the image, valid for a few minutes; it checks the viewer again "
        "when opened."
    )
    async def url(self, info: Info) -> str:
        return await link(info, CAR_PHOTO, self.pk)
