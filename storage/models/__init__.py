"""The tables of the store, one module per part of the product.

Names follow the words people use at the counter: a *citizen* reaches us
through one or more channel *identities*, lives in a *locality*, files
*requests* in a *category*; every change of a request is a *request event*;
every message in or out is a *message* row with its delivery status.

A new part of the product adds its tables in a module of its own here and
one import line below (so that ``from storage.models import X`` finds it and
the migrations see it), plus a migration in ``storage/migrations``.
"""

from storage.models.api import ApiKey
from storage.models.base import utcnow
from storage.models.broadcasts import BazaarDay, Broadcast, BroadcastChannel
from storage.models.catalogue import Category, Department, Locality, NamedPlace
from storage.models.citizens import Citizen, Conversation, Identity
from storage.models.coordination import Lease
from storage.models.learning import CategoryCorrection
from storage.models.inbox import InboxItem
from storage.models.messages import Message
from storage.models.privacy import AuditEntry, DataExport
from storage.models.requests import Request, RequestEvent
from storage.models.staff import Caseworker, SignInLink, StaffInvite
from storage.models.visits import Booking, ServiceQuestion, Visit, VisitSubscription

__all__ = [
    "utcnow",
    "ApiKey",
    "BazaarDay", "Broadcast", "BroadcastChannel",
    "Category", "Department", "Locality", "NamedPlace",
    "Citizen", "Conversation", "Identity",
    "Lease",
    "CategoryCorrection",
    "InboxItem", "Message",
    "AuditEntry", "DataExport",
    "Request", "RequestEvent",
    "Caseworker", "SignInLink", "StaffInvite",
    "Booking", "ServiceQuestion", "Visit", "VisitSubscription",
]
