"""PM Learning Assistant: answers product managers' questions from their articles, with
verified citations.

Public API::

    from rag import Assistant
    a = Assistant.load()            # opens ./index (built by `pmrag index`)
    ans = a.ask("What should a PM learn before working with data scientists?")
    ans.text, ans.citations[0].title

Everything is importable without side effects: models load when first used.
"""

from rag.answer import Answer, Citation, SentenceCheck, Timings
from rag.assistant import Assistant
from rag.config import Settings
from rag.errors import RagError
from rag.retrieval import Hit

__all__ = ["Answer", "Assistant", "Citation", "Hit", "RagError", "SentenceCheck", "Settings", "Timings"]
