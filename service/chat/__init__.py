"""The conversation: retrieval, prompt, generation, citations, sessions. No FastAPI here."""
