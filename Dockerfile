# faqbot image: the chat API and the ingest job. CPU only; the model is served by Ollama.
# Runs as the unprivileged user faqbot (uid 10001). The code under /app is root's and
# read-only to it; faqbot writes only to the two volumes below (and /tmp):
#   /var/lib/faqbot        state: the index folder, the exported embedding model, SQLite
#   /srv/faqbot/content    the FAQ sources and the gate's questions (the console edits
#                          them); a new named volume starts as a copy of this image's data/
# `faqbot serve` and `faqbot ingest` refuse at start, naming the path and the setting,
# when a folder they write is not writable (cli/preflight.py).
FROM python:3.11.13-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 \
    HOME=/var/lib/faqbot \
    FAQBOT_INDEX__PATH=/var/lib/faqbot/index \
    FAQBOT_EMBEDDING__CACHE_DIR=/var/lib/faqbot/models \
    FAQBOT_DB__URL=sqlite:////var/lib/faqbot/faqbot.db \
    FAQBOT_ADMIN__FAQ_DIR=/srv/faqbot/content/faq \
    FAQBOT_ADMIN__GATE_QUESTIONS=/srv/faqbot/content/eval/questions.jsonl \
    FAQBOT_ADMIN__GATE_CONVERSATIONS=/srv/faqbot/content/eval/conversations.jsonl

WORKDIR /app
COPY pyproject.toml README.md ./
COPY service ./service
COPY ingest ./ingest
COPY cli ./cli
# The CPU wheel of torch: the default PyPI wheel for Linux pulls several GB of CUDA.
RUN pip install --no-cache-dir torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu \
 && pip install --no-cache-dir .
COPY alembic ./alembic
COPY alembic.ini ./

RUN groupadd --system --gid 10001 faqbot \
 && useradd --system --uid 10001 --gid faqbot --home-dir /var/lib/faqbot --no-create-home faqbot \
 && install -d -o faqbot -g faqbot -m 0750 /var/lib/faqbot /srv/faqbot/content
COPY --chown=faqbot:faqbot data /srv/faqbot/content
USER faqbot
VOLUME ["/var/lib/faqbot", "/srv/faqbot/content"]
ENTRYPOINT ["faqbot"]
EXPOSE 8080
CMD ["serve", "--host", "0.0.0.0", "--port", "8080", "--upgrade-db"]
