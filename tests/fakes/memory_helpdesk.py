"""A helpdesk in memory, for fast tests of what sits in front of one: conversations as
lists of the customer's messages, and a knob that makes the next calls fail."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from service.helpdesk.base import HelpdeskError, Thread, Ticket


@dataclass
class MemoryHelpdesk:
    name: str = "memory"
    conversations: dict[str, list[str]] = field(default_factory=dict)
    contacts: dict[str, str] = field(default_factory=dict)  # conversation -> contact
    fail_next: int = 0  # the next this many calls raise HelpdeskError
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def open(self, ticket: Ticket) -> Thread:
        self._gate()
        thread = Thread(str(next(self._ids)), f"contact-{ticket.handoff_id}")
        self.conversations[thread.conversation] = []
        self.contacts[thread.conversation] = thread.contact
        return thread

    def post(self, thread: Thread, text: str) -> None:
        self._gate()
        if self.contacts.get(thread.conversation) != thread.contact:
            raise HelpdeskError("no such conversation")
        self.conversations[thread.conversation].append(text)

    def close(self) -> None:
        pass

    def _gate(self) -> None:
        if self.fail_next > 0:
            self.fail_next -= 1
            raise HelpdeskError("the helpdesk is down")
