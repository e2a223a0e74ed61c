# The README's two commands: `make run` and `make test`. Everything installs into .venv.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# torch is pinned in pyproject.toml (CPU build); pip finds it on this machine's disk or PyPI.
STAMP := $(VENV)/.installed

.PHONY: run test install lint typecheck bench eval clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# Embedded defaults: on-disk Chroma under var/index, the bundled MiniLM embedder.
run: install
	$(BIN)/faqbot ingest data/faq
	$(BIN)/faqbot ask "How long do I have to return an item?"

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check service ingest tests bench
	$(BIN)/ruff format --check service ingest tests bench
	$(BIN)/mypy

bench: install
	$(BIN)/python bench/ingest_retrieval.py

eval: install
	$(BIN)/faqbot eval --faqs ../shared/eval/stackfaq/faqs.jsonl --queries ../shared/eval/stackfaq/queries.jsonl
	$(BIN)/faqbot eval --faqs ../shared/eval/clinc150/faqs.jsonl --queries ../shared/eval/clinc150/queries.jsonl
	$(BIN)/faqbot eval --faqs data/faq --queries data/eval/questions.jsonl --out var/eval/faqbot

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
