"""Why a webhook action refused (with `domain.problems.Common`): the GraphQL enum
WebhookErrorCode."""

from enum import StrEnum


class WebhookCode(StrEnum):
    URL_REFUSED = "URL_REFUSED"  # not https, or resolving to an address that is not public
    UNKNOWN_EVENT_TYPE = "UNKNOWN_EVENT_TYPE"  # an event type Portico does not send
    OWNER_REQUIRED = "OWNER_REQUIRED"  # only an OWNER manages webhook endpoints
