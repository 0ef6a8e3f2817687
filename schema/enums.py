"""GraphQL enums: the stored enums of models/enums.py, described. Each name here is the
stored enum itself (strawberry.enum marks the class and returns it), so it serves as a type."""

import strawberry

from models.enums import (
    AccessAction,
    ActorKind,
    AppointmentKind,
    AppointmentStatus,
    BillingInterval,
    BillingTiming,
    CarEventKind,
    CarStatus,
    Channel,
    CheckOutEnd,
    ContactRole,
    ContractKind,
    ContractStatus,
    DeliveryState,
    DocumentKind,
    EstimateDecisionKind,
    EstimateStatus,
    InspectionKind,
    InvoiceStatus,
    JobKind,
    JobStatus,
    LateFeeKind,
    LateFeeTarget,
    LineKind,
    MailKind,
    NotificationKind,
    OnboardingStepKind,
    PaymentMethod,
    PaymentStatus,
    PhotoStage,
    PortalScope,
    PortalStatus,
    RsvpStatus,
    SignInMethod,
    StaffRole,
    StaffStatus,
    SubscriptionStatus,
    WebhookDeliveryStatus,
)

strawberry.enum(StaffRole, description="A staff member's role.")
strawberry.enum(
    WebhookDeliveryStatus,
    description="Where a webhook delivery stands: pending (first or next try to come), "
    "delivered (answered 2xx), failed (given up).",
)
strawberry.enum(
    StaffStatus,
    description="Where a staff account stands: invited (no password yet), active, deactivated.",
)
strawberry.enum(PortalStatus, description="Where a person stands with the customer portal.")
strawberry.enum(ContactRole, description="A contact's relation to a customer.")
strawberry.enum(
    PortalScope,
    description="What a contact's portal access covers: everything, billing only, or chosen cars.",
)
strawberry.enum(CarStatus, description="Where a car is now.")
strawberry.enum(
    CheckOutEnd,
    description="When a car's subscriptions end once it is checked out of storage: at the end "
    "of the period running, or that day (the unused days billed in advance credited).",
)
strawberry.enum(CarEventKind, description="What happened to a car.")
strawberry.enum(DocumentKind, description="What a document is.")
strawberry.enum(ContractStatus, description="A contract's signing state.")
strawberry.enum(
    ContractKind,
    description="What a contract is, chosen when it is created; onboarding's SIGN_CONTRACT "
    "steps name it. Its signed copy is filed as a document of the same kind.",
)
strawberry.enum(InvoiceStatus, description="An invoice's state.")
strawberry.enum(EstimateStatus, description="An estimate's state.")
strawberry.enum(LineKind, description="What a line item charges for.")
strawberry.enum(PaymentMethod, description="How a payment was made.")
strawberry.enum(PaymentStatus, description="A payment's state.")
strawberry.enum(AppointmentKind, description="What an appointment is for.")
strawberry.enum(AppointmentStatus, description="An appointment's state.")
strawberry.enum(ActorKind, description="Who acted: staff, customer, contact.")
strawberry.enum(NotificationKind, description="What a notification says.")
strawberry.enum(SignInMethod, description="How portal viewers sign in.")
strawberry.enum(EstimateDecisionKind, description="The customer's answer to an estimate.")
strawberry.enum(
    InspectionKind, description="A staff condition report, or a driver's trip inspection."
)
strawberry.enum(JobKind, description="What a job (work order) is for.")
strawberry.enum(JobStatus, description="Where a job stands.")
strawberry.enum(PhotoStage, description="Before, during or after the work.")
strawberry.enum(OnboardingStepKind, description="What an onboarding step asks of a customer.")
strawberry.enum(
    AccessAction, description="What a portal viewer did with a file: saw its link, opened it."
)
strawberry.enum(RsvpStatus, description="An answer to an event invitation.")
strawberry.enum(Channel, description="How a message of the delivery log travels: EMAIL or SMS.")
strawberry.enum(
    MailKind,
    description="What an email is about; people's preferences choose the kinds they get "
    "(sign-in links and receipts always go to their one addressee).",
)
strawberry.enum(
    DeliveryState,
    description="An email in the delivery log: QUEUED (not tried yet), FAILED (a try failed, "
    "it is tried again), SENT, DEAD (given up; lastError says why).",
)
strawberry.enum(
    BillingTiming,
    description="When a recurring period is billed: IN_ADVANCE on its first day (rent), "
    "IN_ARREARS on the day after its last.",
)
strawberry.enum(
    BillingInterval,
    description="A named billing interval: MONTHLY (1 month), QUARTERLY (3), YEARLY (12).",
)
strawberry.enum(
    SubscriptionStatus,
    description="ACTIVE; PAUSED (nothing billed until resumed); ENDED (its end date has come "
    "in the organization's time zone).",
)
strawberry.enum(
    LateFeeKind,
    description="How a late fee is worked out: NONE (no late fees), FIXED (a set amount), "
    "PERCENT (a share of the overdue amount, rounded half away from zero).",
)
strawberry.enum(
    LateFeeTarget,
    description="Where a late fee is billed: OWN_INVOICE (an invoice of its own, sent at "
    "once) or NEXT_INVOICE (a line on the customer's next invoice).",
)
