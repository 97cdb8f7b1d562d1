# One image for web, worker and beat (see docker-compose.yml).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 NLTK_DATA=/usr/local/share/nltk_data
WORKDIR /app
# Pango for the report PDFs (WeasyPrint)
RUN apt-get update && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml setup.py README.md ./
COPY webapp ./webapp
COPY tasks ./tasks
COPY migrations ./migrations
COPY scripts ./scripts
COPY wsgi.py celeryconfig.py ./
# gcc only while installing: setup.py compiles the term extractor's word loop, then it goes
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \
 && pip install --no-cache-dir . \
 && apt-get purge -y --auto-remove gcc libc6-dev && rm -rf /var/lib/apt/lists/* \
 && python scripts/install_nltk_data.py "$NLTK_DATA"
RUN useradd --create-home sentimon && mkdir -p /app/instance && chown sentimon /app/instance
USER sentimon
EXPOSE 8000
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "4", "wsgi:app"]
