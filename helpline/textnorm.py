"""One way to compare what people type or say with the words in content."""
import re
import unicodedata

_NON_WORD = re.compile(r"[^0-9a-z]+")


def normalize(text: str) -> str:
    """Lower-case, accents dropped, punctuation and runs of space folded to one space.

    "¡ESPAÑOL!" and "espanol" compare equal, so texters are understood whatever their
    keyboard does with accents.
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NON_WORD.sub(" ", plain).strip()


def contains_phrase(normalized_text: str, phrase: str) -> bool:
    """Whole-word match: "od" is found in "i think he od" but not in "good"."""
    return f" {phrase} " in f" {normalized_text} "
