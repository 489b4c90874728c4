"""Imports every model so the metadata (and Alembic) sees them all."""
from app.accounts.models import Invitation, Membership, User  # noqa: F401
from app.audit.models import AuditEntry  # noqa: F401
from app.booking.models import Appointment, AppointmentService, EmergencyRequest, WaitlistEntry  # noqa: F401
from app.booking.refusals import RefusalCount  # noqa: F401
from app.catalog.models import Service, ServiceCounter  # noqa: F401
from app.mail.models import MailTemplate, OutboxMail  # noqa: F401
from app.offices.models import Closure, Counter, Entrance, Office, OpeningHours  # noqa: F401
from app.tenancy.models import Tenant, TenantHost  # noqa: F401
from app.queue.models import OfficeQueue, QueueCall, QueueDay, QueueEntry, WalkInQuota  # noqa: F401
from app.webhooks.models import WebhookDelivery, WebhookEndpoint  # noqa: F401
from app.statistics.models import (  # noqa: F401
    StatisticsDay, StatisticsDelta, StatisticsNextFree, StatisticsOfficeDay, StatisticsRecording,
)
from app.accounts.models import LoginFailure, RecoveryCode, SpentChallenge, UserSession  # noqa: F401
from app.legal.models import AccessibilityFeedback  # noqa: F401
from app.accounts.identity import ExternalIdentity, IdentityProvider  # noqa: F401
from app.idempotency.models import IdempotentAnswer  # noqa: F401
