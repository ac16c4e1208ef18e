"""Lyrics text as Chorus sees it: its UTF-8 decoder and the pinned song normalisation
(data/text.cpp), so a prime given here becomes the same symbols as in `chorus sample`.
Invariant: the same bytes give the same code points as chorus (each invalid byte is one U+FFFD)."""

_REPLACEMENT = 0xFFFD


def decode_utf8(data):
    """Code points of `data` (bytes) as chorus decodes them: an invalid byte, overlong form,
    surrogate or value above U+10FFFF becomes U+FFFD and decoding resumes at the next byte."""
    out, i, n = [], 0, len(data)
    while i < n:
        b0 = data[i]
        if b0 < 0x80:
            out.append(b0)
            i += 1
            continue
        if b0 & 0xE0 == 0xC0:
            extra, cp, least = 1, b0 & 0x1F, 0x80
        elif b0 & 0xF0 == 0xE0:
            extra, cp, least = 2, b0 & 0x0F, 0x800
        elif b0 & 0xF8 == 0xF0:
            extra, cp, least = 3, b0 & 0x07, 0x10000
        else:
            out.append(_REPLACEMENT)
            i += 1
            continue
        if i + extra >= n:  # chorus's check: a sequence ending the text counts as truncated
            out.append(_REPLACEMENT)
            i += 1
            continue
        ok = True
        for k in range(1, extra + 1):
            b = data[i + k]
            if b & 0xC0 != 0x80:
                ok = False
                break
            cp = (cp << 6) | (b & 0x3F)
        if not ok or cp < least or cp > 0x10FFFF or 0xD800 <= cp <= 0xDFFF:
            out.append(_REPLACEMENT)
            i += 1
            continue
        out.append(cp)
        i += extra + 1
    return out


def normalise_song(text):
    """The normalised code points of one song (str or bytes): \\r\\n -> \\n, the songdata quirk
    (two spaces before \\n) removed, leading blank lines and all trailing white space dropped."""
    data = text.encode("utf-8", "surrogateescape") if isinstance(text, str) else bytes(text)
    decoded = decode_utf8(data)
    out = []
    for i, c in enumerate(decoded):
        if c == 0x0D and i + 1 < len(decoded) and decoded[i + 1] == 0x0A:
            continue
        if c == 0x0A and len(out) >= 2 and out[-1] == 0x20 and out[-2] == 0x20:
            del out[-2:]
        out.append(c)
    start = 0
    for i, c in enumerate(out):
        if c == 0x0A:
            start = i + 1
        elif c not in (0x20, 0x09):
            break
    end = len(out)
    while end > start and out[end - 1] in (0x20, 0x09, 0x0A, 0x0D, 0x0B, 0x0C):
        end -= 1
    return out[start:end] if end > start else []


def to_text(code_points):
    """Code points -> str (chorus writes surrogates and values past U+10FFFF as U+FFFD)."""
    return "".join(chr(c) if c <= 0x10FFFF and not 0xD800 <= c <= 0xDFFF else "\ufffd"
                   for c in code_points)
