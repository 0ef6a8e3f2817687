"""GraphQL enums, wrapping the stored enums of models/enums.py."""

import strawberry

from models import enums

StaffRole = strawberry.enum(enums.StaffRole, description="A staff member's role.")
StaffStatus = strawberry.enum(
    enums.StaffStatus,
    description="Where a staff account stands: invited (no password yet), active, deactivated.",
)
PortalStatus = strawberry.enum(
    enums.PortalStatus, description="Where a person stands with the customer portal."
)
ContactRole = strawberry.enum(enums.ContactRole, description="A contact's relation to a customer.")
PortalScope = strawberry.enum(
    enums.PortalScope,
    description="What a contact's portal access covers: everything, billing only, or chosen cars.",
)
CarStatus = strawberry.enum(enums.CarStatus, description="Where a car is now.")
CarEventKind = strawberry.enum(enums.CarEventKind, description="What happened to a car.")
DocumentKind = strawberry.enum(enums.DocumentKind, description="What a document is.")
ContractStatus = strawberry.enum(enums.ContractStatus, description="A contract's signing state.")
ContractKind = strawberry.enum(
    enums.ContractKind,
    description="What a contract is, chosen when it is created; onboarding's SIGN_CONTRACT "
    "steps name it. Its signed copy is filed as a document of the same kind.",
)
InvoiceStatus = strawberry.enum(enums.InvoiceStatus, description="An invoice's state.")
EstimateStatus = strawberry.enum(enums.EstimateStatus, description="An estimate's state.")
LineKind = strawberry.enum(enums.LineKind, description="What a line item charges for.")
PaymentMethod = strawberry.enum(enums.PaymentMethod, description="How a payment was made.")
PaymentStatus = strawberry.enum(enums.PaymentStatus, description="A payment's state.")
AppointmentKind = strawberry.enum(enums.AppointmentKind, description="What an appointment is for.")
AppointmentStatus = strawberry.enum(enums.AppointmentStatus, description="An appointment's state.")
ActorKind = strawberry.enum(enums.ActorKind, description="Who acted: staff, customer, contact.")
NotificationKind = strawberry.enum(enums.NotificationKind, description="What a notification says.")
SignInMethod = strawberry.enum(enums.SignInMethod, description="How portal viewers sign in.")
EstimateDecisionKind = strawberry.enum(
    enums.EstimateDecisionKind, description="The customer's answer to an estimate."
)
InspectionKind = strawberry.enum(
    enums.InspectionKind, description="A staff condition report, or a driver's trip inspection."
)
JobKind = strawberry.enum(enums.JobKind, description="What a job (work order) is for.")
JobStatus = strawberry.enum(enums.JobStatus, description="Where a job stands.")
PhotoStage = strawberry.enum(enums.PhotoStage, description="Before, during or after the work.")
OnboardingStepKind = strawberry.enum(
    enums.OnboardingStepKind, description="What an onboarding step asks of a customer."
)
AccessAction = strawberry.enum(
    enums.AccessAction, description="What a portal viewer did with a file: saw its link, opened it."
)
RsvpStatus = strawberry.enum(enums.RsvpStatus, description="An answer to an event invitation.")
