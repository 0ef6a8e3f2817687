"""Closed sets of values stored in the database; the GraphQL enums wrap these."""

from enum import StrEnum


class StaffRole(StrEnum):
    OWNER = "OWNER"
    ADMIN = "ADMIN"
    STAFF = "STAFF"


class StaffStatus(StrEnum):
    """Where a staff account stands: invited (no password yet), active, or deactivated."""

    INVITED = "INVITED"
    ACTIVE = "ACTIVE"
    DEACTIVATED = "DEACTIVATED"


class StaffTokenPurpose(StrEnum):
    """What an emailed staff token is for: accepting an invite, or resetting a password."""

    INVITE = "INVITE"
    PASSWORD_RESET = "PASSWORD_RESET"


class PortalStatus(StrEnum):
    NOT_INVITED = "NOT_INVITED"
    INVITED = "INVITED"
    ACTIVE = "ACTIVE"
    REVOKED = "REVOKED"


class ContactRole(StrEnum):
    SPOUSE = "SPOUSE"
    ASSISTANT = "ASSISTANT"
    BOOKKEEPER = "BOOKKEEPER"
    VEHICLE_HANDLER = "VEHICLE_HANDLER"
    DRIVER = "DRIVER"
    OTHER = "OTHER"


class PortalScope(StrEnum):
    EVERYTHING = "EVERYTHING"
    BILLING = "BILLING"
    CARS = "CARS"


class CheckOutEnd(StrEnum):
    """When a car's subscriptions end once it is checked out of storage."""

    PERIOD_END = "PERIOD_END"  # at the end of the period running (nothing credited)
    CHECK_OUT_DAY = "CHECK_OUT_DAY"  # that day: the unused days billed in advance credited


class CarStatus(StrEnum):
    IN_STORAGE = "IN_STORAGE"
    CHECKED_OUT = "CHECKED_OUT"
    IN_SERVICE = "IN_SERVICE"
    IN_TRANSIT = "IN_TRANSIT"
    WITH_OWNER = "WITH_OWNER"


class CarEventKind(StrEnum):
    CHECK_IN = "CHECK_IN"
    CHECK_OUT = "CHECK_OUT"
    SERVICE = "SERVICE"
    DETAILING = "DETAILING"
    PHOTO_SESSION = "PHOTO_SESSION"
    CONDITION_REPORT = "CONDITION_REPORT"
    STATUS_CHANGE = "STATUS_CHANGE"
    OWNER_CHANGE = "OWNER_CHANGE"
    NOTE = "NOTE"


class DocumentKind(StrEnum):
    STORAGE_AGREEMENT = "STORAGE_AGREEMENT"
    LIABILITY_WAIVER = "LIABILITY_WAIVER"
    INSURANCE_CARD = "INSURANCE_CARD"
    REGISTRATION = "REGISTRATION"
    PHOTO = "PHOTO"
    PDF = "PDF"
    OTHER = "OTHER"


class ContractKind(StrEnum):
    """What a contract is, named when it is created: the stable key onboarding's
    SIGN_CONTRACT steps name (titles change). The values are document kinds too, and a
    signed copy is filed under its contract's kind."""

    STORAGE_AGREEMENT = "STORAGE_AGREEMENT"
    LIABILITY_WAIVER = "LIABILITY_WAIVER"
    OTHER = "OTHER"


class ContractStatus(StrEnum):
    DRAFT = "DRAFT"
    SENT = "SENT"
    SIGNED = "SIGNED"
    VOID = "VOID"
    SUPERSEDED = "SUPERSEDED"


class InspectionKind(StrEnum):
    CONDITION = "CONDITION"  # staff's condition report
    PRE_TRIP = "PRE_TRIP"  # a driver's inspection before a trip (DVIR)
    POST_TRIP = "POST_TRIP"


class JobKind(StrEnum):
    SERVICE = "SERVICE"
    REPAIR = "REPAIR"
    DETAILING = "DETAILING"
    STORAGE_CHECK_IN = "STORAGE_CHECK_IN"
    STORAGE_CHECK_OUT = "STORAGE_CHECK_OUT"
    INSPECTION = "INSPECTION"
    OTHER = "OTHER"


class JobStatus(StrEnum):
    SCHEDULED = "SCHEDULED"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


class PhotoStage(StrEnum):
    BEFORE = "BEFORE"
    PROGRESS = "PROGRESS"
    AFTER = "AFTER"


class AccessAction(StrEnum):
    VIEW = "VIEW"
    DOWNLOAD = "DOWNLOAD"


class InvoiceStatus(StrEnum):
    DRAFT = "DRAFT"
    OPEN = "OPEN"
    PARTIALLY_PAID = "PARTIALLY_PAID"
    PAID = "PAID"
    VOID = "VOID"
    # Credit notes took its whole total off: nothing is owed on it, and it is not paid.
    CREDITED = "CREDITED"


class EstimateStatus(StrEnum):
    DRAFT = "DRAFT"
    SENT = "SENT"
    APPROVED = "APPROVED"
    DECLINED = "DECLINED"
    EXPIRED = "EXPIRED"


class EstimateDecisionKind(StrEnum):
    APPROVED = "APPROVED"
    DECLINED = "DECLINED"
    CHANGES_REQUESTED = "CHANGES_REQUESTED"


class LineKind(StrEnum):
    LABOUR = "LABOUR"
    PARTS = "PARTS"
    FEE = "FEE"
    STORAGE = "STORAGE"
    OTHER = "OTHER"


class PaymentMethod(StrEnum):
    CARD_ONLINE = "CARD_ONLINE"
    CASH = "CASH"
    CHEQUE = "CHEQUE"
    BANK_TRANSFER = "BANK_TRANSFER"


class PaymentStatus(StrEnum):
    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    REFUNDED = "REFUNDED"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"


class RefundStatus(StrEnum):
    """Where a refund stands. PENDING: asked of the provider, its answer not recorded yet
    (the amount is held meanwhile: domain/payments/refunds.py); FAILED: refused, nothing
    was given back."""

    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class DisputeStatus(StrEnum):
    """Where a card payment's dispute (chargeback) stands; WON and LOST are final."""

    OPEN = "OPEN"
    WON = "WON"
    LOST = "LOST"


class AppointmentKind(StrEnum):
    DROP_OFF = "DROP_OFF"
    PICK_UP = "PICK_UP"
    SERVICE = "SERVICE"
    DETAILING = "DETAILING"
    INSPECTION = "INSPECTION"
    PHOTO_SESSION = "PHOTO_SESSION"
    OTHER = "OTHER"


class AppointmentStatus(StrEnum):
    REQUESTED = "REQUESTED"  # asked for in the portal, waiting for staff
    SCHEDULED = "SCHEDULED"
    CONFIRMED = "CONFIRMED"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"
    NO_SHOW = "NO_SHOW"


class ActorKind(StrEnum):
    STAFF = "STAFF"
    CUSTOMER = "CUSTOMER"
    CONTACT = "CONTACT"
    SYSTEM = "SYSTEM"


class NotificationKind(StrEnum):
    INVOICE_NEW = "INVOICE_NEW"
    ESTIMATE_NEW = "ESTIMATE_NEW"
    ESTIMATE_APPROVED = "ESTIMATE_APPROVED"
    ESTIMATE_DECLINED = "ESTIMATE_DECLINED"
    PAYMENT_RECEIVED = "PAYMENT_RECEIVED"
    APPOINTMENT_REMINDER = "APPOINTMENT_REMINDER"
    CAR_UPDATE = "CAR_UPDATE"
    CONTRACT_TO_SIGN = "CONTRACT_TO_SIGN"
    MESSAGE_NEW = "MESSAGE_NEW"
    CONTRACT_SIGNED = "CONTRACT_SIGNED"
    APPOINTMENT_REQUESTED = "APPOINTMENT_REQUESTED"
    APPOINTMENT_CHANGED = "APPOINTMENT_CHANGED"  # a customer cancelled or moved one
    CAR_READY = "CAR_READY"
    PAYMENT_FAILED = "PAYMENT_FAILED"
    PAYMENT_DISPUTED = "PAYMENT_DISPUTED"
    CONTACTS_CHANGED = "CONTACTS_CHANGED"  # a customer added, changed or removed a contact


class MailKind(StrEnum):
    """Every email belongs to one kind; preferences decide who gets which."""

    SIGN_IN = "SIGN_IN"
    RECEIPT = "RECEIPT"
    INVOICES = "INVOICES"
    ESTIMATES = "ESTIMATES"
    SCHEDULING = "SCHEDULING"
    CAR_UPDATES = "CAR_UPDATES"
    CONTRACTS = "CONTRACTS"
    SOCIAL_EVENTS = "SOCIAL_EVENTS"
    MARKETING = "MARKETING"
    STAFF = "STAFF"
    # "You have a new message": no preference turns it off (domain/messaging/ says why).
    MESSAGES = "MESSAGES"


class Channel(StrEnum):
    """How an outbox message travels: an email, or a text to a phone (mail/texts.py)."""

    EMAIL = "EMAIL"
    SMS = "SMS"


class TextKind(StrEnum):
    """What a person may choose to also get by text; each is off until they turn it on."""

    SIGN_IN = "SIGN_IN"  # portal sign-in links
    PAY_LINKS = "PAY_LINKS"  # an invoice's pay link
    APPOINTMENT_REMINDERS = "APPOINTMENT_REMINDERS"
    CAR_READY = "CAR_READY"  # the car's status became READY


class OutboxStatus(StrEnum):
    PENDING = "PENDING"
    SENT = "SENT"
    DEAD = "DEAD"


class WebhookDeliveryStatus(StrEnum):
    PENDING = "PENDING"  # waiting for its first or next try
    DELIVERED = "DELIVERED"  # the endpoint answered 2xx
    FAILED = "FAILED"  # given up: three days of failures, or its endpoint deleted


class DeliveryState(StrEnum):
    """An email as staff see it in the delivery log (models/derived.py `delivery_state`)."""

    QUEUED = "QUEUED"  # waiting for its first try
    FAILED = "FAILED"  # a try failed (`last_error` says why); it is tried again
    SENT = "SENT"
    DEAD = "DEAD"  # given up: refused for good, or out of attempts


class SessionKind(StrEnum):
    STAFF = "STAFF"
    PORTAL = "PORTAL"
    PREVIEW = "PREVIEW"


class LinkPurpose(StrEnum):
    SIGN_IN = "SIGN_IN"
    PASSWORD_RESET = "PASSWORD_RESET"
    EMAIL_CHANGE = "EMAIL_CHANGE"


class SignInMethod(StrEnum):
    MAGIC_LINK = "MAGIC_LINK"
    PASSWORD = "PASSWORD"


class OnboardingStepKind(StrEnum):
    SIGN_CONTRACT = "SIGN_CONTRACT"
    ADD_PAYMENT_METHOD = "ADD_PAYMENT_METHOD"
    COMPLETE_PROFILE = "COMPLETE_PROFILE"
    CONFIRM_PREFERENCES = "CONFIRM_PREFERENCES"


class AutopayStatus(StrEnum):
    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class RsvpStatus(StrEnum):
    GOING = "GOING"
    NOT_GOING = "NOT_GOING"


class BillingTiming(StrEnum):
    """When a recurring period is billed: on its first day (rent) or after its last."""

    IN_ADVANCE = "IN_ADVANCE"
    IN_ARREARS = "IN_ARREARS"


class SubscriptionStatus(StrEnum):
    """Derived from a subscription's dates and pause (models/derived.py)."""

    ACTIVE = "ACTIVE"
    PAUSED = "PAUSED"
    ENDED = "ENDED"


class BillingInterval(StrEnum):
    """The named intervals of a billing plan (any number of months is allowed besides)."""

    MONTHLY = "MONTHLY"
    QUARTERLY = "QUARTERLY"
    YEARLY = "YEARLY"


class LateFeeKind(StrEnum):
    """How a late fee is worked out, if at all."""

    NONE = "NONE"
    FIXED = "FIXED"  # a set amount
    PERCENT = "PERCENT"  # a share of the overdue amount


class LateFeeTarget(StrEnum):
    """Where a late fee is billed."""

    OWN_INVOICE = "OWN_INVOICE"  # an invoice of its own, issued at once
    NEXT_INVOICE = "NEXT_INVOICE"  # a line on the customer's next invoice


class ImportState(StrEnum):
    """A CSV import: checked only, written, or refused (nothing written)."""

    DRY_RUN = "DRY_RUN"
    COMMITTED = "COMMITTED"
    FAILED = "FAILED"


class BulkInviteState(StrEnum):
    RUNNING = "RUNNING"
    FINISHED = "FINISHED"
    CANCELLED = "CANCELLED"


class BulkInviteItemState(StrEnum):
    PENDING = "PENDING"
    SENT = "SENT"
    SKIPPED = "SKIPPED"
    CANCELLED = "CANCELLED"
