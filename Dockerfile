# One image for web, worker and beat; docker-compose.yml picks the command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    IMAGETASKS_VAR_DIR=/var/lib/imagetasks

# qemu-img lets the built-in cloud export qcow2 images as VHD.
RUN apt-get update \
    && apt-get install -y --no-install-recommends qemu-utils \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
# Exactly the releases the tests ran with, checked against their hashes (make lock
# refreshes requirements.txt); the project itself then adds no dependency of its own
# and is built by the locked setuptools.
COPY requirements.txt ./
RUN pip install --require-hashes -r requirements.txt
COPY pyproject.toml README.md ./
COPY imagetasks ./imagetasks
RUN pip install --no-deps --no-build-isolation .
COPY manage.py ./
COPY templates ./templates
COPY static ./static

# Static files are collected at build time and served by whitenoise.
RUN DEBUG=false SECRET_KEY=collectstatic-only STATIC_ROOT=/app/staticfiles \
    python manage.py collectstatic --no-input -v0

RUN useradd --system --home-dir /var/lib/imagetasks imagetasks \
    && mkdir -p /var/lib/imagetasks && chown imagetasks /var/lib/imagetasks
USER imagetasks
ENV STATIC_ROOT=/app/staticfiles

EXPOSE 8000
CMD ["gunicorn", "imagetasks.wsgi", "--bind", "0.0.0.0:8000", "--worker-class", "gthread", \
     "--workers", "2", "--threads", "8", "--access-logfile", "-", "--no-control-socket"]
