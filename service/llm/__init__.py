"""Chat models behind one protocol: Ollama, embedded llama.cpp, OpenAI-compatible servers."""
