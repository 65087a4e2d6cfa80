"""The analyze phase in the rubric.

The contract has four axes and none of them is the analysis, so the analysis is folded into the
efficiency axis as one dimension: a requirements analysis that names the project's entities and
capabilities is what lets the later, expensive calls succeed. Matching is lenient on purpose (singular
or plural, snake_case or words) because the analysis is prose-like; the database and interface axes
check coverage strictly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from runner.schemas.analyze import AnalyzeDocument

_SYNONYMS = """
create: create add register post submit book new write make start issue
list: list browse search see view read show index find
get: get see view read show open detail
update: update edit change modify mark rename approve reject set move
delete: delete remove cancel erase withdraw
"""
VERB_SYNONYMS: dict[str, tuple[str, ...]] = {
    verb: tuple(rest.split())
    for verb, _, rest in (line.partition(":") for line in _SYNONYMS.strip().splitlines())
}


def stem(word: str) -> str:
    """A crude singular: replies -> reply, classes -> class, todos -> todo."""
    word = word.lower()
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ses", "xes", "ches", "shes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def words(text: str) -> set[str]:
    """Stemmed words of a text, splitting snake_case and camelCase."""
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", text)
    return {stem(w) for w in re.findall(r"[A-Za-z]+", spaced)}


def entity_words(table: str) -> set[str]:
    """`todo_lists` -> {"todo", "list"}."""
    return {stem(part) for part in table.split("_") if part}


def covers_entity(known: Iterable[str], table: str) -> bool:
    """Whether any known name (snake_case, singular or plural) names the table's entity."""
    wanted = entity_words(table)
    return any(entity_words(name) == wanted or stem(name) == stem(table) for name in known)


def covers_capability(texts: Iterable[str], capability: str) -> bool:
    """Whether one of the texts names the capability's verb (or a synonym) and all words of its table."""
    verb, _, table = capability.partition(" ")
    verbs = {stem(v) for v in VERB_SYNONYMS.get(verb, (verb,))}
    wanted = entity_words(table)
    for text in texts:
        found = words(text)
        if verbs & found and wanted <= found:
            return True
    return False


def analysis_coverage(
    doc: AnalyzeDocument | None, entities: Sequence[str], capabilities: Sequence[str]
) -> tuple[float, str]:
    """(fraction, detail): half for the required entities named, half for the capabilities described
    by some feature. A missing (failed) analysis scores 0."""
    if doc is None:
        return 0.0, "analysis missing or invalid"
    names = [e.name for e in doc.entities]
    entity_hits = [t for t in entities if covers_entity(names, t)]
    feature_texts = [f.description for f in doc.features]
    capability_hits = [c for c in capabilities if covers_capability(feature_texts, c)]
    parts = []
    if entities:
        parts.append(len(entity_hits) / len(entities))
    if capabilities:
        parts.append(len(capability_hits) / len(capabilities))
    fraction = sum(parts) / len(parts) if parts else 1.0
    detail = (
        f"{len(entity_hits)}/{len(entities)} entities, {len(capability_hits)}/{len(capabilities)} capabilities"
        " named in the analysis"
    )
    return fraction, detail
