"""The lines that open quoted history in the common mail clients, in many languages.

Each pattern is matched against one line (or two or three lines joined, for attributions that
clients wrap), never against the rest of the text, so the splitter stays linear.
"""

from __future__ import annotations

import re

# Longest line worth testing: attribution lines and header fields are short. Longer lines are
# prose (or hostile input) and are never history markers.
MAX_MARKER_LINE = 400
FULLWIDTH_COLON = "\uff1a"  # Chinese and Japanese clients end attributions with it

# "wrote" in the clients' languages (en de fr es it nl sv/no/da pl pt ru fi tr vi cs hu ja zh ko).
_WROTE_WORDS = (
    r"wrote|writes|sent|schrieb|geschrieben|a\s+écrit|a\s+ecrit|escribió|escribio|ha\s+escrito|"
    r"ha\s+scritto|scrisse|schreef|geschreven|skrev|skriver|napisał\(a\)|napisała|napisał|"
    r"napisal|escreveu|написал\(а\)|написала|написал|kirjoitti|yazdı|đã\s+viết|napsal\(a\)|"
    r"napsal|írta|va\s+escriure|έγραψε|a\s+scris|のメッセージ|写道|작성"
)
_WROTE = re.compile(rf"(?:{_WROTE_WORDS})\b", re.IGNORECASE)
_ENDS_WROTE = re.compile(rf"(?:{_WROTE_WORDS})\s*[:\uff1a]?\s*$", re.IGNORECASE)

# The words an attribution opens with: "On", "Am", "Le", "El", "Il", "Op", "Den", "På",
# "W dniu", "Em", "Dne", "Vào", "В", "Στις", "Pe", "Dana", "El dia", "Op ... heeft".
_ON_WORDS = re.compile(
    r"^\s*(?:(?:on|am|le|el|il|op|den|på|w\s+dniu|dnia|em|dne|vào|в|στις|pe|dana|el\s+dia)\b|\d)",
    re.IGNORECASE,
)
_DATE_START = re.compile(
    r"^\s*(?:\d{1,4}[-/.年]\s?\d{1,2}[-/.月]\s?\d{1,4}|\d{1,2}:\d{2}|"
    r"(?:mon|tue|wed|thu|fri|sat|sun|man|tir|ons|tor|fre|lør|søn|lun|mar|mer|jeu|ven|sam|dim|"
    r"mo|di|mi|do|fr|sa|so|пн|вт|ср|чт|пт|сб|вс)[a-zäéû]{0,7}\.?,?\s+\d)",
    re.IGNORECASE,
)
_DIGIT = re.compile(r"\d")
_ADDRESS = re.compile(r"@[\w.-]+\.\w|mailto:")
# Android and some webmail: "---- John Smith wrote ----", "-----John Smith wrote:-----".
_DASHED_WROTE = re.compile(
    rf"^\s*-{{2,}}\s*.{{0,120}}\b(?:{_WROTE_WORDS})\b\s*:?\s*-{{2,}}\s*$", re.I
)
# A reply sharing its line with the attribution: "Thanks On Wed, Apr 4, 2012 ... wrote:".
SHARED_LINE = re.compile(
    rf"^(?P<text>.*?\S)\s*-*\s*(?P<attribution>\b(?:On|Am|Le|El|Il|Op)\s.{{0,250}}"
    rf"(?:{_WROTE_WORDS})\s*:\s*)$"
)

_ORIGINAL = re.compile(
    r"^\s*[-_=*]{2,}\s*(?:original\s+message|reply\s+message|forwarded\s+message|"
    r"ursprüngliche\s+nachricht|original\s*nachricht|antwort\s+nachricht|"
    r"weitergeleitete\s+nachricht|message\s+d'origine|message\s+transféré|message\s+original|"
    r"mensaje\s+original|mensaje\s+reenviado|messaggio\s+originale|messaggio\s+inoltrato|"
    r"oorspronkelijk\s+bericht|origineel\s+bericht|doorgestuurd\s+bericht|"
    r"ursprungligt\s+meddelande|originalmeddelande|vidarebefordrat\s+meddelande|"
    r"oprindelig\s+meddelelse|oprindelig\s+besked|videresendt\s+meddelelse|opprinnelig\s+melding|"
    r"videresendt\s+melding|wiadomość\s+oryginalna|oryginalna\s+wiadomość|"
    r"przekazana\s+wiadomość|wiadomość\s+przekazana|mensagem\s+original|"
    r"mensagem\s+encaminhada|исходное\s+сообщение|пересылаемое\s+сообщение|"
    r"alkuperäinen\s+viesti|välitetty\s+viesti|orijinal\s+mesaj|původní\s+zpráva|"
    r"eredeti\s+üzenet|mesaj\s+original)\s*[-_=*]{2,}\s*$",
    re.IGNORECASE,
)
_FORWARD_INTRO = re.compile(
    r"^\s*>?\s*(?:begin\s+forwarded\s+message|forwarded\s+message|"
    r"anfang\s+der\s+weitergeleiteten\s+nachricht|début\s+du\s+message\s+réexpédié|"
    r"inicio\s+del\s+mensaje\s+reenviado|inizio\s+messaggio\s+inoltrato|"
    r"begin\s+doorgestuurd\s+bericht|vidarebefordrat\s+brev|videresendt\s+besked)\s*[:\uff1a]\s*$",
    re.IGNORECASE,
)

# Outlook's header block, by field, in the clients' languages.
_FIELDS: dict[str, str] = {
    "from": r"from|von|de|van|da|fra|från|od|от|lähettäjä|kimden|feladó|από|odesílatel|"
    r"发件人|寄件者|差出人|보낸\s*사람",
    "date": r"sent|date|gesendet|datum|envoyé\s+le|envoyé|message\s+du|verzonden|inviato|"
    r"data|enviado|fecha|sendt|"
    r"dato|skickat|wysłano|wysłane|отправлено|дата|lähetetty|päivämäärä|gönderildi|"
    r"tarih|elküldve|dátum|odesláno|发送时间|日期|送信日時|보낸\s*날짜",
    "to": r"to|an|à|a|aan|para|til|till|do|кому|vastaanottaja|kime|címzett|komu|"
    r"收件人|宛先|받는\s*사람",
    "subject": r"subject|betreff|objet|sujet|onderwerp|oggetto|asunto|assunto|emne|ämne|temat|"
    r"тема|aihe|konu|tárgy|předmět|主题|主旨|件名|제목",
    "cc": r"cc|kopie|copie\s+à|copie|kopia|копия",
    "reply": r"reply-to|répondre\s+à|antwort\s+an",
}
_FIELD = re.compile(
    r"^\s*>?\s*\**\s*(?:"
    + "|".join(f"(?P<{name}>{words})" for name, words in _FIELDS.items())
    + r")\s*\**\s*[:\uff1a]",
    re.IGNORECASE,
)
RULE = re.compile(r"^\s*(?:_{8,}|-{8,}|={8,}|—{4,})\s*$")

# A mobile footer or webmail tagline, only as the last line of the new text.
MOBILE_FOOTER = re.compile(
    r"^\s*(?:sent\s+(?:from|via|with|using)\s+(?:my\s+)?|get\s+outlook\s+for\s+|"
    r"envoyé\s+(?:de|depuis|à\s+partir\s+de)\s+(?:mon\s+)?|von\s+meinem\s+|gesendet\s+(?:von|mit)\s+|"
    r"enviado\s+(?:desde|de)\s+(?:mi|meu)\s+|inviato\s+da\s+(?:mio\s+)?|"
    r"verzonden\s+(?:vanaf|met)\s+(?:mijn\s+)?|skickat\s+från\s+(?:min\s+)?|"
    r"sendt\s+fra\s+(?:min\s+)?|wysłane\s+z\s+|отправлено\s+с\s+)"
    r"[\w .'’()-]{1,40}?(?:\s+gesendet)?\s*(?:<[^<>\s]{1,200}>)?\s*$",
    re.IGNORECASE,
)
SIGNATURE_DELIMITER = re.compile(r"^(?:--|-- |__)\s*$")
# A mailing list's or a disclaimer's footer starts at a rule of underscores near the end.
FOOTER_RULE = re.compile(r"^\s*_{8,}\s*$")


def field_name(line: str) -> str | None:
    """Which header field a line is ("from", "date", ...), or None."""
    head = line[:60]
    # Cheap test first: a field's colon comes within its first few words.
    if ":" not in head and FULLWIDTH_COLON not in head:
        return None
    match = _FIELD.match(head)
    return match.lastgroup if match else None


def is_marker(line: str) -> bool:
    """An "Original Message" or forwarded-message line: everything after it is history."""
    tail = line.rstrip()[-1:]
    if len(line) > MAX_MARKER_LINE or tail not in ("-", "_", "=", "*", ":", FULLWIDTH_COLON):
        return False
    return bool(_ORIGINAL.match(line) or _FORWARD_INTRO.match(line))


def is_strong_attribution(text: str) -> bool:
    """An attribution that names a date or an address: "On <date>, <name> wrote:".

    "The school nurse wrote:" is not one (no date, no address), so an answer that says so is
    never cut there. The cheap tests come first: almost every line of a long text fails them.
    """
    if len(text) > MAX_MARKER_LINE:
        return False
    tail = text.rstrip()
    if not tail:
        return False
    ends_colon = tail.endswith((":", FULLWIDTH_COLON))
    if not ends_colon:
        if tail.endswith("-"):
            return bool(_DASHED_WROTE.match(text))
        # "On <date> <name> <addr> wrote", the colon lost.
        return bool(
            _ON_WORDS.match(text)
            and _ADDRESS.search(text)
            and _DIGIT.search(text)
            and _ENDS_WROTE.search(tail[-30:])
        )
    dated = bool(_DIGIT.search(text))
    addressed = bool(_ADDRESS.search(text))
    if not (dated or addressed):
        return False
    if _ENDS_WROTE.search(tail[-30:]):
        return True
    if _ON_WORDS.match(text) and _WROTE.search(text):
        return True
    # ISO-date attributions: "2016-03-03 17:21 GMT+01:00 Name <addr>:".
    return bool(_DATE_START.match(text) and addressed)


def may_open_attribution(line: str) -> bool:
    """A line an attribution wrapped over several lines can start with ("On <date>, ...")."""
    return len(line) <= MAX_MARKER_LINE and bool(_ON_WORDS.match(line) or _DATE_START.match(line))


def is_dated_address_line(text: str) -> bool:
    """ "2011/4/7 Name <addr>" with no colon: an attribution only if quoted lines follow."""
    return len(text) <= MAX_MARKER_LINE and bool(_DATE_START.match(text) and _ADDRESS.search(text))


def is_weak_attribution(text: str) -> bool:
    """ "Name wrote:" with no date or address: an attribution only before quoted lines."""
    tail = text.rstrip()
    return (
        len(text) <= MAX_MARKER_LINE
        and tail.endswith((":", FULLWIDTH_COLON))
        and bool(_ENDS_WROTE.search(tail[-30:]))
    )
