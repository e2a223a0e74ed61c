"""Handing a customer to a helpdesk the shop already uses (Chatwoot): the conversation
opened there with the transcript, the customer's messages after it, and the agents'
replies and the resolution coming back through the helpdesk's webhook."""
