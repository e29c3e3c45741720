"""The event types organizations can subscribe to: only ones the code sends.

The core emits none of its own; every app adds the types it sends in its ``AppConfig.ready()``::

    from registry.events.vocabulary import event_type_register

    event_type_register("subject.disputed")                # only the event's audience gets it
    event_type_register("guideline.published", public=True)  # about a public record: every subscriber

Registering a type twice with the same visibility is harmless; a different visibility, or a name
not shaped ``noun.verb``, stops start-up. A type is subscribable exactly while it is registered,
so an app registers only what it emits.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import overload

from django.core.exceptions import ImproperlyConfigured

_NAME = re.compile(r"^[a-z][a-z_]*\.[a-z][a-z_]*$")

# {event type: public?}. Public events (about public records) go to every subscriber; the others
# only to the organizations in the event's audience.
_REGISTERED: dict[str, bool] = {}


def event_type_register(name: str, *, public: bool = False) -> None:
    """Make ``name`` subscribable; ``public`` events go to every subscriber, others to their audience."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ImproperlyConfigured(f"Event type {name!r} must look like 'subject.disputed' (lower case, one dot).")
    known = _REGISTERED.get(name)
    if known is not None and known != public:
        raise ImproperlyConfigured(
            f"Event type {name!r} is already registered as {'public' if known else 'private'}; "
            f"it cannot also be {'public' if public else 'private'}."
        )
    _REGISTERED[name] = public


def event_types() -> tuple[str, ...]:
    """Every subscribable event type, in registration order."""
    return tuple(_REGISTERED)


def public_event_types() -> frozenset[str]:
    """The types every subscriber receives (events about public records)."""
    return frozenset(name for name, public in _REGISTERED.items() if public)


class _LiveEventTypes(Sequence[str]):
    """``EVENT_TYPES`` as it always was (a sequence of names), read at each use, so types that apps
    register in ``ready()`` appear in forms and serializers built after start-up."""

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...
    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        return event_types()[index]

    def __len__(self) -> int:
        return len(_REGISTERED)

    def __iter__(self) -> Iterator[str]:
        return iter(event_types())

    def __contains__(self, name: object) -> bool:
        return name in _REGISTERED

    def __repr__(self) -> str:
        return repr(event_types())


EVENT_TYPES: Sequence[str] = _LiveEventTypes()


class _LivePublicTypes:
    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and bool(_REGISTERED.get(name))

    def __iter__(self) -> Iterator[str]:
        return iter(public_event_types())


PUBLIC_EVENT_TYPES = _LivePublicTypes()
