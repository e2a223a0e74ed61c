# faqbot image: the chat API and the ingest job. CPU only; the model is served by Ollama.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 \
    FAQBOT_INDEX__PATH=/var/lib/faqbot/index

WORKDIR /app
COPY pyproject.toml README.md ./
COPY service ./service
COPY ingest ./ingest
COPY cli ./cli
# The CPU wheel of torch: the default PyPI wheel for Linux pulls several GB of CUDA.
RUN pip install --no-cache-dir torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu \
 && pip install --no-cache-dir .
COPY data ./data
COPY alembic ./alembic
COPY alembic.ini ./

RUN useradd --system --home /var/lib/faqbot faqbot && mkdir -p /var/lib/faqbot && chown faqbot /var/lib/faqbot
USER faqbot
VOLUME ["/var/lib/faqbot"]
ENTRYPOINT ["faqbot"]
EXPOSE 8080
CMD ["serve", "--host", "0.0.0.0", "--port", "8080", "--upgrade-db"]
