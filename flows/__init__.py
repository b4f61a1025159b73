"""Conversations as small state machines.

Nothing here knows about Telegram, Twilio, SQL or the network: a normalized
:class:`~flows.messages.Incoming` goes in, replies and actions come out.
"""
