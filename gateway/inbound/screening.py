"""The urgency screen applied to a message: its subject and its new text (not the history it
quotes), with the configured phrases. One function for every kind of mail about a child."""

from __future__ import annotations

from email.message import Message

from gateway.config import Config
from gateway.domain.urgency import Reason, screen, urgent_hint
from gateway.inbound.quotes import new_text
from gateway.inbound.referral.bodies import body_texts, html_text
from gateway.mail.decode import header


def new_message_text(message: Message) -> str:
    plain, html = body_texts(message)
    return new_text(plain if plain.strip() else html_text(html))


def screen_message(
    message: Message,
    config: Config,
    *,
    text: str | None = None,
    immediate_risk: bool | None = None,
) -> tuple[Reason, ...]:
    """Why this message is urgent (empty: it is not). TEXT: what to read instead of the new
    text of the body (a referral form's concern)."""
    return tuple(
        screen(
            subject=header(message, "Subject") or "",
            text=new_message_text(message) if text is None else text,
            urgent_phrases=config.front_door.urgent_phrases,
            increased_risk_phrases=config.front_door.increased_risk_phrases,
            immediate_risk=immediate_risk,
        )
    )


def priority_of(raw: bytes, config: Config) -> int:
    """1 when the raw message looks urgent (a cheap first look, for the order of work only)."""
    front = config.front_door
    return 1 if urgent_hint(raw, front.urgent_phrases, front.increased_risk_phrases) else 0
