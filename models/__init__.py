"""Tables and database access. Importing this package registers every table."""

from models.access_log import AccessLog
from models.audit import AuditEvent
from models.base import index_foreign_keys, metadata
from models.billing import (
    CreditNote,
    CreditNoteLine,
    Estimate,
    EstimateDecision,
    EstimateLine,
    EstimateVersion,
    Invoice,
    InvoiceLine,
    Payment,
    ProviderEvent,
    Refund,
)
from models.cars import (
    Car,
    CarEvent,
    CarPhoto,
    CarUpdateDigest,
    ConditionReport,
    MaintenanceSchedule,
    TelematicsReading,
)
from models.collections import CollectionSettings, InvoiceReminder, LateFee, MonthlyStatement
from models.documents import Contract, Document
from models.events import CommunityEvent, EventRsvp
from models.idempotency import IdempotencyKey
from models.imports import BulkInvite, BulkInviteItem, DataImport
from models.integrations import IntegrationKey
from models.jobs import Job, JobPhoto
from models.messaging import (
    Message,
    MessageAttachment,
    Notification,
    OutboxEmail,
    SmsOptOut,
)
from models.onboarding import OnboardingStep
from models.organization import Counter, Organization, PortalSettings
from models.people import Contact, ContactCar, Customer, StaffUser
from models.rate_limits import RateLimit
from models.schedule import Appointment, AppointmentReminder
from models.sessions import AuthSession, MagicLink, StaffToken
from models.subscriptions import (
    BillingPlan,
    BillingSubscription,
    SubscriptionAdjustment,
    SubscriptionPeriod,
)
from models.wallet import AutopayCharge, SavedPaymentMethod
from models.webhooks import WebhookDelivery, WebhookEndpoint, WebhookEvent

index_foreign_keys(metadata)

__all__ = [
    "AccessLog",
    "Appointment",
    "AppointmentReminder",
    "AuditEvent",
    "AuthSession",
    "AutopayCharge",
    "BillingPlan",
    "BillingSubscription",
    "BulkInvite",
    "BulkInviteItem",
    "Car",
    "CarEvent",
    "CarPhoto",
    "CarUpdateDigest",
    "CollectionSettings",
    "CommunityEvent",
    "ConditionReport",
    "Contact",
    "ContactCar",
    "Contract",
    "Counter",
    "CreditNote",
    "CreditNoteLine",
    "Customer",
    "DataImport",
    "Document",
    "Estimate",
    "EstimateDecision",
    "EstimateLine",
    "EstimateVersion",
    "EventRsvp",
    "IdempotencyKey",
    "IntegrationKey",
    "Invoice",
    "InvoiceLine",
    "InvoiceReminder",
    "Job",
    "JobPhoto",
    "LateFee",
    "MagicLink",
    "MaintenanceSchedule",
    "Message",
    "MessageAttachment",
    "MonthlyStatement",
    "Notification",
    "OnboardingStep",
    "Organization",
    "OutboxEmail",
    "Payment",
    "PortalSettings",
    "ProviderEvent",
    "RateLimit",
    "Refund",
    "SavedPaymentMethod",
    "SmsOptOut",
    "StaffToken",
    "StaffUser",
    "SubscriptionAdjustment",
    "SubscriptionPeriod",
    "TelematicsReading",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
    "metadata",
]
