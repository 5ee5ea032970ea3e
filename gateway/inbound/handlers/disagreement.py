"""A reply about a contact that disagrees with its decision becomes a disagreement effect;
whether the sender is a professional is settled against the contact when it is applied."""

from __future__ import annotations

from gateway.domain.effects import RaiseDisagreement
from gateway.inbound.disagreement import disagreement
from gateway.inbound.pipeline import Work
from gateway.inbound.quotes import new_text
from gateway.inbound.referral.bodies import body_texts, html_text
from gateway.mail.addresses import single_address
from gateway.mail.decode import header


def disagreement_effects(work: Work) -> tuple[RaiseDisagreement, ...]:
    assert work.decoded is not None and work.reference is not None
    message = work.decoded.message
    sender = single_address(header(message, "From"))
    plain, html = body_texts(message)
    text = new_text(plain if plain.strip() else html_text(html))
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
