"""The GraphQL schema: root types merged from each domain, with the server's limits.

`schema` here is what `/graphql` serves and what `portico export-schema` prints.
"""

import logging

import strawberry
from graphql import GraphQLError
from strawberry.extensions import ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from core.db_faults import database_busy, database_unavailable
from core.settings import Settings
from planner.extension import PlannedReads

# Importing the type modules registers every Node type with `node`.
from schema import (
    billing,
    cars,
    customers,
    documents,
    imports,
    integrations,
    jobs,
    messaging,
    organization,
    schedule,
    subscriptions,
    wallet,
    webhooks,
)
from schema.collections import CollectionMutations
from schema.cost import QueryCost
from schema.document_refusals import Refusals, log_errors
from schema.introspection import IntrospectionGate
from schema.limits import CachedParse, Limits, limit_rules
from schema.masking import MaskUnexpected
from schema.mutations.appointments import AppointmentMutations
from schema.mutations.auth import AuthMutations
from schema.mutations.billing import InvoiceMutations
from schema.mutations.cars import CarMutations
from schema.mutations.contracts import ContractMutations
from schema.mutations.customers import CustomerMutations
from schema.mutations.documents import DocumentMutations
from schema.mutations.estimates import EstimateMutations
from schema.mutations.events import EventMutations
from schema.mutations.exports import ExportMutations
from schema.mutations.imports import ImportMutations
from schema.mutations.integrations import IntegrationMutations
from schema.mutations.jobs import WorkMutations
from schema.mutations.messaging import MessagingMutations
from schema.mutations.notifications import NotificationMutations
from schema.mutations.onboarding import OnboardingMutations
from schema.mutations.payments import (
    OnlinePaymentMutations,
    PaymentMutations,
    WalletMutations,
)
from schema.mutations.photos import CarPhotoMutations
from schema.mutations.portal import (
    OrganizationMutations,
    PortalAccessMutations,
    PortalPreviewMutations,
    PortalSignInMutations,
)
from schema.mutations.profile import ProfileMutations
from schema.mutations.staff import StaffMutations
from schema.mutations.subscriptions import SubscriptionMutations
from schema.mutations.webhooks import WebhookMutations
from schema.pay_links import PayLinkMutations, PayLinkQueries
from schema.preview import PreviewReadOnly
from schema.queries import AccessQueries, Query
from schema.text import StorableText


@strawberry.type(description="Everything that changes data. Each mutation takes one `input`.")
class Mutation(
    AuthMutations,
    StaffMutations,
    PortalSignInMutations,
    PortalAccessMutations,
    OrganizationMutations,
    CustomerMutations,
    CarMutations,
    InvoiceMutations,
    PaymentMutations,
    OnlinePaymentMutations,
    PayLinkMutations,
    EstimateMutations,
    WorkMutations,
    IntegrationMutations,
    ContractMutations,
    PortalPreviewMutations,
    WalletMutations,
    OnboardingMutations,
    AppointmentMutations,
    ProfileMutations,
    NotificationMutations,
    DocumentMutations,
    CarPhotoMutations,
    EventMutations,
    MessagingMutations,
    SubscriptionMutations,
    CollectionMutations,
    WebhookMutations,
    ExportMutations,
    ImportMutations,
):
    pass


@strawberry.type(name="Query", description="Everything that can be read.")
class RootQuery(
    Query,
    AccessQueries,
    messaging.MessagingQueries,
    subscriptions.SubscriptionQueries,
    PayLinkQueries,
):
    pass


# Every type reachable only through `node` must still be in the schema.
NODE_ONLY_TYPES = [
    billing.Payment,
    jobs.Job,
    jobs.MaintenanceSchedule,
    jobs.TelematicsReading,
    integrations.IntegrationKey,
    webhooks.WebhookEndpoint,
    webhooks.WebhookDelivery,
    wallet.SavedPaymentMethod,
    cars.CarEvent,
    cars.ConditionReport,
    documents.Contract,
    messaging.Notification,
    organization.AuditEvent,
    organization.StaffUser,
    schedule.Appointment,
    customers.Contact,
    imports.DataImport,
    imports.BulkInvite,
    imports.BulkInviteItem,
]


log = logging.getLogger("portico.graphql")


class PorticoSchema(strawberry.Schema):
    """Strawberry's schema, its errors logged without quoting the request (refusals.py); a
    statement the database stopped for waiting too long (answered REQUEST_TIMEOUT,
    core/errors.py) as one warning line, and an unreachable database once per outage
    (models/db.py), not a traceback each."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        unexpected = []
        context = execution_context.context if execution_context else None
        for error in errors:
            if error.original_error is not None and database_unavailable(error.original_error):
                # Answered SERVICE_UNAVAILABLE or OUTCOME_UNKNOWN: an outage, logged once.
                where = ".".join(str(p) for p in error.path or [])
                db = getattr(context, "db", None)
                if db is not None:
                    db.outage.failed(f"GraphQL field {where}", error.original_error)
                else:
                    log.warning("database unavailable at %s (%s)", where, error.original_error)
            elif error.original_error is not None and database_busy(error.original_error):
                log.warning(
                    "database statement stopped at %s: answered REQUEST_TIMEOUT (%s)",
                    ".".join(str(p) for p in error.path or []),
                    error.original_error,
                )
            else:
                unexpected.append(error)
        log_errors(unexpected)


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    """The schema with the limits and introspection rule of `settings` (defaults if None)."""
    limits = Limits.of(settings) if settings else Limits()
    introspection = settings.introspection_mode if settings else "on"
    return PorticoSchema(
        query=RootQuery,
        mutation=Mutation,
        subscription=messaging.Subscription,
        types=NODE_ONLY_TYPES,
        # Extensions are passed as factories so no state is shared between requests.
        extensions=[
            lambda: CachedParse(limits),
            lambda: ValidationCache(maxsize=256),
            StorableText,  # after ValidationCache: adds to its verdict
            lambda: limit_rules(limits),
            lambda: QueryCost(limits),  # after ValidationCache: it measures valid documents
            # Production hides the schema tour from strangers; schema.graphql documents it.
            lambda: IntrospectionGate(introspection),
            # Before MaskUnexpected, so it sees the errors after the masking.
            lambda: Refusals(introspection),
            MaskUnexpected,
            PlannedReads,
            PreviewReadOnly,
        ],
        config=StrawberryConfig(disable_field_suggestions=True),
    )


schema = build_schema()

__all__ = ["schema"]
