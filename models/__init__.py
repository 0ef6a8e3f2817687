"""Tables and database access. Importing this package registers every table."""

from models.audit import AuditEvent
from models.base import index_foreign_keys, metadata
from models.billing import (
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
from models.cars import Car, CarEvent, ConditionReport
from models.documents import Contract, Document
from models.messaging import Message, Notification, OutboxEmail
from models.organization import Counter, Organization, PortalSettings
from models.people import Contact, ContactCar, Customer, StaffUser
from models.rate_limits import RateLimit
from models.schedule import Appointment
from models.sessions import AuthSession, MagicLink

index_foreign_keys(metadata)

__all__ = [
    "Appointment",
    "AuditEvent",
    "AuthSession",
    "Car",
    "CarEvent",
    "ConditionReport",
    "Contact",
    "ContactCar",
    "Contract",
    "Counter",
    "Customer",
    "Document",
    "Estimate",
    "EstimateDecision",
    "EstimateLine",
    "EstimateVersion",
    "Invoice",
    "InvoiceLine",
    "MagicLink",
    "Message",
    "Notification",
    "Organization",
    "OutboxEmail",
    "Payment",
    "PortalSettings",
    "ProviderEvent",
    "RateLimit",
    "Refund",
    "StaffUser",
    "metadata",
]
