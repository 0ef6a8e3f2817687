"""Every table as SQLAlchemy Core sees it, named as in the database: the one place the
statements, loaders and planner take their tables from."""

from __future__ import annotations

from models.access_log import AccessLog
from models.audit import AuditEvent
from models.base import table_of
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

access_logs = table_of(AccessLog)
appointments = table_of(Appointment)
appointment_reminders = table_of(AppointmentReminder)
audit_events = table_of(AuditEvent)
billing_plans = table_of(BillingPlan)
bulk_invite_items = table_of(BulkInviteItem)
bulk_invites = table_of(BulkInvite)
data_imports = table_of(DataImport)
auth_sessions = table_of(AuthSession)
autopay_charges = table_of(AutopayCharge)
car_events = table_of(CarEvent)
car_photos = table_of(CarPhoto)
cars = table_of(Car)
collection_settings = table_of(CollectionSettings)
car_update_digests = table_of(CarUpdateDigest)
community_events = table_of(CommunityEvent)
condition_reports = table_of(ConditionReport)
contact_cars = table_of(ContactCar)
contacts = table_of(Contact)
contracts = table_of(Contract)
counters = table_of(Counter)
credit_note_lines = table_of(CreditNoteLine)
credit_notes = table_of(CreditNote)
customers = table_of(Customer)
documents = table_of(Document)
estimate_decisions = table_of(EstimateDecision)
estimate_lines = table_of(EstimateLine)
estimate_versions = table_of(EstimateVersion)
estimates = table_of(Estimate)
event_rsvps = table_of(EventRsvp)
idempotency_keys = table_of(IdempotencyKey)
integration_keys = table_of(IntegrationKey)
invoice_lines = table_of(InvoiceLine)
invoice_reminders = table_of(InvoiceReminder)
monthly_statements = table_of(MonthlyStatement)
invoices = table_of(Invoice)
job_photos = table_of(JobPhoto)
late_fees = table_of(LateFee)
jobs = table_of(Job)
magic_links = table_of(MagicLink)
maintenance_schedules = table_of(MaintenanceSchedule)
message_attachments = table_of(MessageAttachment)
messages = table_of(Message)
notifications = table_of(Notification)
onboarding_steps = table_of(OnboardingStep)
organizations = table_of(Organization)
outbox_emails = table_of(OutboxEmail)
sms_opt_outs = table_of(SmsOptOut)
payment_methods = table_of(SavedPaymentMethod)
payments = table_of(Payment)
portal_settings = table_of(PortalSettings)
provider_events = table_of(ProviderEvent)
rate_limits = table_of(RateLimit)
refunds = table_of(Refund)
staff_tokens = table_of(StaffToken)
staff_users = table_of(StaffUser)
subscriptions = table_of(BillingSubscription)
subscription_periods = table_of(SubscriptionPeriod)
subscription_adjustments = table_of(SubscriptionAdjustment)
telematics_readings = table_of(TelematicsReading)
webhook_deliveries = table_of(WebhookDelivery)
webhook_endpoints = table_of(WebhookEndpoint)
webhook_events = table_of(WebhookEvent)
