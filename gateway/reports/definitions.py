"""The report's appendix: what each figure counts, in words a steering group reads.

The names are figures.json's; each definition says what is counted, over which period, and
where the gateway's record stops short.
"""

from __future__ import annotations

DEFINITIONS: tuple[tuple[str, str], ...] = (
    (
        "contacts",
        "Contacts received in the period: every referral, police notification and "
        "request for information that reached the MASH mailbox and was given a reference.",
    ),
    (
        "contacts_by_source",
        "The same contacts by who sent them: police, health, a school, the "
        "local authority (LA), another professional (other), or a member of the public "
        "(individual). Read from the referrer's organisation and address.",
    ),
    (
        "contacts_by_channel",
        "The same contacts by how they came: a referral by email, a police "
        "notification, or a request for information (rfi).",
    ),
    (
        "contacts_per_week",
        "Contacts received in each week, Monday to Sunday; the first and last "
        "weeks may be part weeks.",
    ),
    (
        "out_of_hours_share",
        "The share of contacts that arrived when the MASH was closed "
        "(outside opening hours, at weekends and on bank holidays).",
    ),
    (
        "contacts_about_open_cases",
        "Contacts about a child already open to a social work unit, "
        "sent straight to that unit; the MASH takes no further part.",
    ),
    (
        "contacts_routed_back",
        "Contacts about a child whose case closed within the last three "
        "months, routed back to the unit that knew the child.",
    ),
    (
        "police_notifications",
        "Police notifications (for example Merlin or Coming to Notice reports) received.",
    ),
    (
        "information_requests",
        "Requests from another agency for what the MASH knows about a "
        "child not open to children's social care.",
    ),
    (
        "urgent_contacts",
        "Contacts received in the period that the urgency screen marked urgent, by the time "
        "of the report: the form said the child is at immediate risk, or the referral, a later "
        "message about the child or a partner's answer used words of immediate danger or "
        "reported increased risk.",
    ),
    (
        "re_referrals_12m",
        "Contacts about a child who was the subject of another contact in "
        "the 12 months before (matched by NHS number, or by date of birth and name).",
    ),
    (
        "decisions",
        "Screening decisions recorded in the period: A no further action; B a "
        "Section 17 or Section 47 assessment; C children's social care screening in the MASH; "
        "D early help screening.",
    ),
    ("outcomes", "Outcomes recorded in the period, whatever the decision before them."),
    (
        "conversion_by_source",
        "The outcomes recorded in the period, by the source of the "
        "contact: how often each kind of referrer's contacts end in each outcome.",
    ),
    (
        "statutory_assessments_by_section",
        "Statutory assessments by the section given: "
        "Section 17 (a child in need) or Section 47 (an enquiry into significant harm).",
    ),
    (
        "decision_within_24h_share",
        "Of the C decisions recorded in the period, the share "
        "followed by the next decision (whether a statutory response is needed) within the "
        "24-hour clock. A clock still running at the time of the report is left out; one that "
        "ran out with no decision counts as late.",
    ),
    (
        "decision_within_72h_share",
        "Of the D decisions recorded in the period, the share "
        "followed by an outcome within the 72-hour clock, counted the same way.",
    ),
    (
        "rfi_within_10_working_days_share",
        "Of the requests for information received in the "
        "period (not about open cases), the share answered (a decision or outcome recorded on "
        "it) within 10 working days, bank holidays excluded.",
    ),
    (
        "checks",
        "Partner checks requested in the period, by agency and RAG rating. "
        "Answered: the agency's first accepted reply. On time: answered by the RAG's deadline.",
    ),
    (
        "on_time_share",
        "Of the checks answered, or unanswered and past their deadline at the "
        "time of the report, the share answered on time. A check withdrawn unanswered (the "
        "contact's outcome came first) is left out; an undeliverable one counts as not on time.",
    ),
    (
        "median_response_hours",
        "The middle response time of the answered checks, in clock "
        "hours from the request to the reply: half were quicker, half slower.",
    ),
    (
        "p90_response_hours",
        "The response time that nine in ten answered checks beat (the "
        "90th percentile), in clock hours.",
    ),
    ("chases", "Reminders the checks needed: the rungs of the chasing ladder they reached."),
    (
        "escalations",
        "Checks whose chasing reached the rung copied to the agency's escalation address.",
    ),
    ("increased_risk_flags", "Checks whose answer flagged increased risk to the child."),
    ("undeliverable", "Check requests the agency's mail server refused (bounced)."),
    ("letters_sent", "Outcome letters sent to referrers for the outcomes recorded in the period."),
    (
        "letters_withheld",
        "Outcome letters a manager withheld, with a recorded reason, for the outcomes "
        "recorded in the period.",
    ),
    (
        "letters_withheld_by_reason",
        "The same withheld letters by the kind of reason the manager chose: telling the "
        "referrer could put the child at risk (risk to child); the letter could prejudice a "
        "police or other investigation (investigation); it would give away information about "
        "someone else (third party); the referrer was told another way, by phone or at a "
        'meeting (told another way); or another reason (other). "Not given": withheld '
        "without a kind of reason (as every letter withheld before the kinds were recorded). "
        "The manager's own words are never published.",
    ),
    ("letters_not_possible", "Outcomes with no letter because the referrer left no address."),
    (
        "consent_given",
        "Of the contacts received in the period, those where the family's consent to "
        "sharing information with partners was given: as the referral form said, or as a "
        "manager later recorded it.",
    ),
    (
        "consent_refused",
        "Of the contacts received in the period, those where the family refused consent "
        "(on the form, or as a manager recorded it). Contacts where consent was not sought or "
        "is not known are in neither figure.",
    ),
    (
        "consent_overridden",
        "Of the contacts received in the period, those where consent was not given and a "
        "manager overrode it to share with partners, with a recorded reason: allowed only "
        "where there are urgent concerns for the child's safety and speaking to the family "
        "may increase the immediate risk (protocol section 7). Counted up to the time of the "
        "report, so a later override of a contact in the period is included.",
    ),
    (
        "disagreements_raised",
        "Professional disagreements with a MASH decision raised in the period by a "
        "professional (an agency, or a referrer known to be a professional; protocol "
        "section 5).",
    ),
    (
        "disagreement_outcomes",
        "The same disagreements by where they stood at the time of the report: resolved "
        "by a manager as upheld (the MASH agreed with the professional), not upheld, or "
        "escalated (to the service manager, then the partnership's escalation policy); or "
        "still open.",
    ),
    (
        "urgent_alerts",
        "Urgent alerts raised in the period: each time the urgency screen found possible "
        "immediate risk in a message about a child (the form's immediate-risk answer, a "
        "partner's increased-risk answer, or words such as threats to kill, a weapon or a child "
        "left alone in a referral or a later message), and the managers were told at once. One "
        "contact can raise more than one.",
    ),
    (
        "urgent_alerts_out_of_hours",
        "Of those, the alerts raised while the MASH was closed (evenings, weekends and bank "
        "holidays); urgent_alerts_to_edt: those also sent to the Emergency Duty Team, which "
        "acts for the MASH when it is closed (protocol section 9).",
    ),
    (
        "urgent_alerts_acknowledged",
        "Of the alerts raised in the period, those a manager (or the Emergency Duty Team) "
        "acknowledged, by replying to the alert or on the command line, up to the time of the "
        "report; urgent_alerts_acknowledged_in_time: those acknowledged within the gateway's "
        "set time ([alerts] acknowledge_within, 30 minutes unless changed).",
    ),
    (
        "urgent_alert_acknowledged_median_minutes",
        "The middle time, in minutes, from an alert being raised to its acknowledgement, over "
        "the acknowledged alerts (half were acknowledged faster, half slower).",
    ),
    (
        "urgent_alerts_escalated",
        "Alerts nobody acknowledged in time, so they were sent again (to the managers, the "
        "named escalation addresses and, out of hours, the Emergency Duty Team) at least once.",
    ),
    (
        "data_quality",
        "Of the referrals received in the period (information requests left "
        "out): those missing a child's date of birth (or expected date), an NHS number for any "
        "child, the consent answer, or the referrer's name or contact details.",
    ),
    (
        "trends",
        "Each headline figure beside the same figure for the period of the same "
        "length just before, with the change (for shares, in percentage points).",
    ),
    (
        "fewer than 5",
        "A count of 1 to 4, or a share or time built on 1 to 4 cases (or a share whose "
        'remainder is 1 to 4, as 5 of 7 would show 2), is shown as "fewer than 5" so that no '
        "child or family can be recognised; where only one cell of a table with a published "
        "total was hidden, the next smallest is hidden too. Zero is shown as 0. "
        '"No cases" means that there was nothing to count.',
    ),
)
