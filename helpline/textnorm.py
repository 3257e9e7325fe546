"""One way to compare what people type or say with the words in content."""
import re
import unicodedata

_NON_WORD = re.compile(r"[^0-9a-z]+")
_APOSTROPHES = re.compile(r"['’‘ʼ`´]")


def normalize(text: str) -> str:
    """Lower-case, accents dropped, apostrophes dropped, other punctuation and runs of space
    folded to one space.

    "¡ESPAÑOL!" and "espanol" compare equal, and "can't" is "cant" (not "can t"), so
    texters are understood whatever their keyboard does with accents and apostrophes.
    Compatibility forms (full-width letters, ligatures) are read as their plain letters and
    invisible format characters (zero-width spaces and joiners) are dropped.
    """
    if text.isascii():   # most texts: the Unicode steps below change nothing in ASCII
        return _NON_WORD.sub(" ", _APOSTROPHES.sub("", text.lower())).strip()
    text = unicodedata.normalize("NFKC", text)
    text = "".join(c for c in text if unicodedata.category(c) != "Cf")
    decomposed = unicodedata.normalize("NFKD", _APOSTROPHES.sub("", text.casefold()))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NON_WORD.sub(" ", plain).strip()


def contains_phrase(normalized_text: str, phrase: str) -> bool:
    """Whole-word match: "od" is found in "i think he od" but not in "good"."""
    return f" {phrase} " in f" {normalized_text} "
