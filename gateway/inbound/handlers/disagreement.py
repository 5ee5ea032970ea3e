"""A reply about a contact that disagrees with its decision becomes a disagreement effect;
whether the sender is a professional is settled against the contact when it is applied."""

from __future__ import annotations

from gateway.domain.effects import RaiseDisagreement
from gateway.inbound.disagreement import disagreement
from gateway.inbound.handlers.command import command_text
from gateway.inbound.pipeline import Work
from gateway.mail.addresses import single_address
from gateway.mail.decode import header


def disagreement_effects(work: Work) -> tuple[RaiseDisagreement, ...]:
    assert work.decoded is not None and work.reference is not None
    message = work.decoded.message
    sender = single_address(header(message, "From"))
    text = command_text(work)
    found = disagreement(text)
    if sender is None or found is None:
        return ()
    return (
        RaiseDisagreement(
            reference=work.reference,
            sender=sender,
            text=text,
            found=found,
            in_reply_to=header(message, "Message-ID"),
        ),
    )
