FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_SETTINGS_MODULE=coop.settings.production
WORKDIR /app
RUN useradd --create-home --uid 1000 coop
COPY requirements.lock ./
RUN pip install --no-cache-dir -r requirements.lock
COPY . .
# collectstatic and the catalogues need settings but no servers: point them at placeholders.
RUN SECRET_KEY=build-only DATABASE_URL=postgres://build@localhost/build REDIS_URL=redis://localhost:6379/0 \
    python manage.py compile_catalogues && \
    SECRET_KEY=build-only DATABASE_URL=postgres://build@localhost/build REDIS_URL=redis://localhost:6379/0 \
    python manage.py collectstatic --no-input
USER coop
EXPOSE 8000
CMD ["gunicorn", "coop.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "60"]
