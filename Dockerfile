FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_SETTINGS_MODULE=scalr_support.settings.production
WORKDIR /app
# The locked runtime dependencies first (a layer that changes only with the lock),
# then the project itself without resolving anything again.
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt
COPY pyproject.toml README.md ./
COPY scalr_support ./scalr_support
COPY tickets ./tickets
COPY sla ./sla
COPY maintenance ./maintenance
COPY notifications ./notifications
RUN pip install --no-cache-dir --no-deps .
COPY . .
# Production settings refuse to load without their secrets; these are for this step only.
RUN SECRET_KEY=build ANYMAIL_WEBHOOK_SECRET=build:build DATABASE_URL=sqlite:////tmp/build.sqlite3 \
    REDIS_URL=redis://build:6379/0 EMAIL_URL=smtp://build:25 \
    python manage.py collectstatic --noinput -v0
RUN useradd --create-home app && mkdir -p /app/var && chown -R app /app/var
USER app
EXPOSE 8000
CMD ["gunicorn", "scalr_support.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3"]
