"""Text as it comes to a desk in China: bytes whose label may be wrong, or missing.

Bytes valid as UTF-8 are UTF-8 whatever the label says (GBK text almost never is); then the
label, the Chinese ones (GB2312, GBK, CP936...) read as GB18030, their superset, since
programs label GBK text GB2312; unlabelled or mislabelled, GB18030 when the bytes are valid
in it (what text from China that is not UTF-8 almost always is: charset-normalizer guessed
Korean for a short unlabelled GBK subject); else as charset-normalizer guesses.
"""

import codecs

CHINESE = {"gb2312", "gbk", "gb_2312-80", "x-gbk", "cp936", "euc-cn", "csgb2312", "gb18030",
           "x-euc-cn", "chinese"}  # all read as GB18030, which holds every one of them
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"),
         (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Text of ``data`` labelled ``charset`` (perhaps wrongly, perhaps not at all)."""
    return decode_named(data, charset)[0]


def decode_named(data: bytes, charset: str | None = None) -> tuple:
    """(text, the encoding it was read as) of ``data`` (see the module); a byte-order mark
    decides first (Excel's "Unicode text" is UTF-16, WPS's CSV has the UTF-8 one)."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec), codec
            except UnicodeDecodeError:
                break
    label = (charset or "").strip().strip('"').lower()
    tries = ["utf-8", "gb18030" if label in CHINESE else label] if label else ["utf-8"]
    tries.append("gb18030")
    for codec in tries:
        try:
            return data.decode(codec), codec
        except (LookupError, UnicodeDecodeError):
            continue
    from charset_normalizer import from_bytes  # only for the text that needs a guess

    best = from_bytes(data).best()
    if best is not None:
        return str(best), best.encoding
    return data.decode("gb18030", "replace"), "gb18030"
