"""A reply's new text, apart from the history it quotes.

One pass over the lines, each tested against a bounded window (at most six lines ahead), so the
cost is linear in the size of the text: a pasted 50,000-line chronology costs what its lines cost.

- `>` lines are history; an attribution just before them ("On <date>, <name> wrote:", in many
  languages, over up to three lines) is dropped with them. Unquoted lines between quoted ones are
  inline answers and are kept.
- A header block (Outlook's From:/Sent:/To:/Subject:, with or without a rule line above it), an
  "Original Message" or forwarded-message marker, or an attribution followed by unquoted history
  ends the new text, once there is new text above it. With nothing above it (a bare forward) the
  whole text is kept: losing a partner's words is worse than keeping some history.
- A mobile footer ("Sent from my iPhone") and a "-- " signature at the end of the new text go.
"""

from __future__ import annotations

from gateway.inbound import quote_patterns as p

_LOOKAHEAD = 6


def _is_quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _quoted_at(lines: list[str], index: int) -> bool:
    return index < len(lines) and _is_quoted(lines[index])


def _wrapped_quote(lines: list[str], index: int) -> bool:
    """A quoted line that a client wrapped without its ">": between two quoted lines, with no
    blank line, and starting in lower case (an inline answer starts a sentence)."""
    line = lines[index].lstrip()
    return (
        0 < index < len(lines) - 1
        and _is_quoted(lines[index - 1])
        and _is_quoted(lines[index + 1])
        and bool(line)
        and not line[0].isupper()
        and not line[0].isdigit()
    )


def _next_nonblank(lines: list[str]) -> list[int]:
    """For each index, the index of the first non-blank line at or after it (len if none)."""
    out = [len(lines)] * (len(lines) + 1)
    for index in range(len(lines) - 1, -1, -1):
        out[index] = index if lines[index].strip() else out[index + 1]
    return out


def _header_block(lines: list[str], index: int) -> bool:
    """Outlook's block: a From: or Date: line and other fields within a few lines."""
    first = p.field_name(lines[index])
    if first not in ("from", "date"):
        return False
    names = {first}
    for line in lines[index + 1 : index + _LOOKAHEAD]:
        name = p.field_name(line)
        if name:
            names.add(name)
    return "from" in names and len(names) >= 2


def _past_header_block(lines: list[str], index: int) -> int:
    """The index after a header block's fields (and their wrapped lines) at the top."""
    end = index + 1
    for later in range(index + 1, min(index + _LOOKAHEAD, len(lines))):
        if not lines[later].strip():
            break
        end = later + 1
    return end


def _could_end_attribution(line: str) -> bool:
    """Cheap: an attribution ends in ":" or dashes, or (its colon lost) names an address."""
    tail = line.rstrip()
    return tail.endswith((":", p.FULLWIDTH_COLON, "-")) or "@" in tail


def _attribution_span(lines: list[str], index: int) -> int:
    """How many lines (1-3) an attribution starting here covers; 0 if none does."""
    first = lines[index]
    # Only a line that opens like an attribution may continue onto the next ones: "Thanks" above
    # "On <date> ... wrote:" is the reply, not the attribution's first line.
    window = lines[index : index + 3]
    if not any(_could_end_attribution(line) for line in window):
        return 0
    most = len(window) if p.may_open_attribution(first) else 1
    joined = ""
    for span in range(1, most + 1):
        line = window[span - 1].strip()
        if span > 1 and (not line or _is_quoted(line)):
            break
        joined = f"{joined} {line}".strip()
        if len(joined) > p.MAX_MARKER_LINE:
            break
        if _could_end_attribution(line) and p.is_strong_attribution(joined):
            return span
    return 0


def _strip_footer(kept: list[str]) -> list[str]:
    """Drop a mobile footer, then a "-- " signature, when they end the new text."""
    end = len(kept)
    while end and not kept[end - 1].strip():
        end -= 1
    if end and p.MOBILE_FOOTER.match(kept[end - 1]):
        end -= 1
        while end and (not kept[end - 1].strip() or p.SIGNATURE_DELIMITER.match(kept[end - 1])):
            end -= 1
    for index in range(end - 1, max(end - 8, -1), -1):
        if p.FOOTER_RULE.match(kept[index]) and index > 0:
            end = index
            break
    for index in range(end - 1, max(end - 16, -1), -1):
        # A signature is short; a "--" line far above the end is a separator in the text.
        if p.SIGNATURE_DELIMITER.match(kept[index]) and index > 0:
            end = index
            break
    while end and (not kept[end - 1].strip() or p.RULE.match(kept[end - 1])):
        end -= 1
    return kept[:end]


def new_text(text: str) -> str:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    following = _next_nonblank(lines)
    kept: list[str] = []
    has_text = False
    index = 0
    while index < len(lines):
        line = lines[index]
        if not line.strip():
            kept.append(line)
            index += 1
            continue
        if _is_quoted(line) or _wrapped_quote(lines, index):
            index += 1
            continue
        span = _attribution_span(lines, index)
        if span:
            shared = None if p.may_open_attribution(line) else p.SHARED_LINE.match(line)
            if shared and p.is_strong_attribution(shared["attribution"]):
                # "Thanks On <date>, <name> wrote:": the reply shares the attribution's line.
                kept.append(shared["text"])
                has_text = True
            elif not _quoted_at(lines, following[index + span]) and has_text:
                break  # unquoted history below an attribution
            index += span
            continue
        if p.is_marker(line) or _header_block(lines, index):
            if _quoted_at(lines, following[index + 1]):
                index += 1  # "Begin forwarded message:" over quoted lines
                continue
            if has_text:
                break
            # A bare forward: its marker and headers go, its text is the answer.
            index = index + 1 if p.is_marker(line) else _past_header_block(lines, index)
            continue
        elif has_text and p.MOBILE_FOOTER.match(line):
            break  # "Sent from my iPhone" then the history, unquoted
        elif _quoted_at(lines, following[index + 1]) and (
            p.is_weak_attribution(line) or p.is_dated_address_line(line)
        ):
            index += 1
            continue
        kept.append(line)
        has_text = has_text or bool(line.strip())
        index += 1
    out: list[str] = []
    for line in _strip_footer(kept):
        line = line.rstrip()
        if line or (out and out[-1]):  # the lines of a removed quote leave one blank, not many
            out.append(line)
    return "\n".join(out).strip()
