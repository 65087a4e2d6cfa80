"""English plural and singular of snake_case names, one rule for the whole project: the pipeline makes
table names with `plural`, the rubric checks them with `is_plural` and matches names with `singular`.

They agree by construction: `plural` leaves a name alone when `is_plural` already says yes, and otherwise
only produces endings that `singular` strips (`is_plural(plural(x))` holds for every name). Rules plus
short word lists are enough for table and resource names and keep the result deterministic; a word that
no rule knows still gets a name the rubric accepts, but perhaps not the dictionary one.
"""

from __future__ import annotations

# singular -> plural where the suffix rules give the wrong word
EXCEPTIONS = {
    "person": "people", "child": "children", "man": "men", "woman": "women", "mouse": "mice",
    "foot": "feet", "tooth": "teeth", "goose": "geese", "ox": "oxen", "quiz": "quizzes",
    "index": "indices", "criterion": "criteria", "phenomenon": "phenomena", "matrix": "matrices",
    "vertex": "vertices", "appendix": "appendices", "axis": "axes", "crisis": "crises",
    "thesis": "theses", "hypothesis": "hypotheses", "diagnosis": "diagnoses", "synopsis": "synopses",
    "synthesis": "syntheses", "parenthesis": "parentheses", "emphasis": "emphases", "oasis": "oases",
    "ellipsis": "ellipses", "iris": "irises", "leaf": "leaves", "loaf": "loaves", "half": "halves",
    "shelf": "shelves", "self": "selves", "wolf": "wolves", "calf": "calves", "elf": "elves",
    "thief": "thieves", "knife": "knives", "life": "lives", "wife": "wives", "hero": "heroes",
    "potato": "potatoes", "tomato": "tomatoes", "echo": "echoes", "veto": "vetoes", "cache": "caches",
    "niche": "niches", "avalanche": "avalanches", "headache": "headaches", "excuse": "excuses",
    "abuse": "abuses", "use": "uses", "fuse": "fuses", "muse": "muses", "refuse": "refuses",
    "gas": "gases", "alias": "aliases", "atlas": "atlases", "bias": "biases", "canvas": "canvases",
    "lens": "lenses",
}  # fmt: skip
_SINGULAR_OF = {plural: singular for singular, plural in EXCEPTIONS.items()}
# Words that are the same in both numbers; a table may carry such a name as it is.
UNCOUNTABLE = frozenset(
    {
        "data", "media", "information", "staff", "feedback", "equipment", "news", "metadata", "series",
        "species", "history", "inventory", "content", "audit", "settings", "software", "evidence"
    }
)  # fmt: skip
# Singular words that end in "s" like a plural (the "-ss", "-us" and "-sis" families are rules below;
# "gas", "alias" and others with a plural to give are in EXCEPTIONS).
_SINGULAR_S = frozenset(
    {
        "yes", "kudos", "chaos", "ethos", "cosmos", "thermos", "this", "his", "is", "as", "us", "tennis",
        "chassis", "penis", "pelvis", "trellis", "epidermis", "cannabis", "mantis", "aegis", "marquis",
        "debris", "ibis"
    }
)  # fmt: skip
# Latin "-us" words; any other "-us" word is read as the plural of a "-u" word (menus, gurus).
_LATIN_US = frozenset(
    {
        "status", "bus", "campus", "bonus", "virus", "census", "focus", "corpus", "genus", "cactus",
        "octopus", "syllabus", "radius", "stimulus", "nexus", "plus", "minus", "thus", "consensus",
        "circus", "chorus", "sinus", "abacus", "apparatus", "walrus", "fungus", "nucleus", "fetus", "onus",
        "surplus", "impetus", "hiatus", "lotus", "exodus", "citrus", "alumnus", "terminus", "thesaurus",
        "calculus", "modulus", "locus", "stylus", "torus", "opus", "prospectus", "platypus", "discus",
        "rebus"
    }
)  # fmt: skip
# "-ie" words whose plural ends in "ies" like the "-y" words (movie -> movies, not movy).
_IE_WORDS = frozenset(
    {
        "movie", "cookie", "pie", "tie", "lie", "die", "zombie", "selfie", "rookie", "calorie", "goalie",
        "hippie", "freebie", "sortie", "prairie", "smoothie", "brownie", "genie", "newbie", "budgie",
        "specie"
    }
)  # fmt: skip
_VOWELS = "aeiou"


def _is_singular_s(word: str) -> bool:
    """A word ending in "s" that is nevertheless singular."""
    return (
        word in _SINGULAR_S
        or word in _LATIN_US
        or word.endswith(("ss", "sis", "itis", "polis"))
        or len(word) < 2
    )


def _singular_word(word: str) -> str:
    if word in UNCOUNTABLE or word in EXCEPTIONS:
        return word
    if word in _SINGULAR_OF:
        return _SINGULAR_OF[word]
    if not word.endswith("s") or _is_singular_s(word):
        return word
    if word.endswith("ies") and len(word) > 3:
        return word[:-1] if word[:-1] in _IE_WORDS else word[:-3] + "y"
    if word.endswith("yses"):  # analyses -> analysis
        return word[:-2] + "is"
    if word.endswith("uses") and len(word) > 4:
        # statuses -> status, but houses -> house and causes -> cause
        return word[:-1] if word[-5] in _VOWELS else word[:-2]
    if word.endswith(("sses", "xes", "ches", "shes", "zzes", "tzes")):
        return word[:-2]
    return word[:-1]


def singular(word: str) -> str:
    """The singular of a word, lower-cased: categories -> category, statuses -> status, people -> person,
    analyses -> analysis; a singular or uncountable word is returned as it is."""
    return _singular_word(word.lower())


def is_plural(word: str) -> bool:
    """Whether a word (or the last word of a snake_case name) reads as a plural; uncountable words do."""
    last = word.lower().rpartition("_")[2]
    return last in UNCOUNTABLE or _singular_word(last) != last


def _plural_word(word: str) -> str:
    if word in EXCEPTIONS:
        return EXCEPTIONS[word]
    if word.endswith("y") and len(word) > 1 and word[-2] not in _VOWELS:
        return word[:-1] + "ies"
    if word.endswith("sis"):  # analysis -> analyses
        return word[:-2] + "es"
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    # "bu" -> "buses": never a plural that reads as a singular ("bus", "axis")
    return word + "s" if _singular_word(word + "s") != word + "s" else word + "ses"


def plural(name: str) -> str:
    """Entity (snake_case singular) -> table name (snake_case plural), changing only the last word:
    order_item -> order_items, status -> statuses, person -> people; a name that is already plural (or
    uncountable, like news) is returned as it is."""
    head, sep, last = name.rpartition("_")
    if is_plural(last):
        return name
    return f"{head}{sep}{_plural_word(last.lower())}"
