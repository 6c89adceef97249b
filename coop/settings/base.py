"""Settings shared by every environment; each value can be set from the environment."""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from coop.settings.env import env, envbool, envint, envlist, envsecret

BASE_DIR = Path(__file__).resolve().parent.parent.parent

SECRET_KEY = envsecret("SECRET_KEY")
DEBUG = envbool("DEBUG", False)
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "django_htmx",
    "coop",
    "customers",
    "grid",
    "loans",
    "risk",
    "surveys",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "coop.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "coop.middleware.SecurityHeadersMiddleware",
    # Last, so that a locked-out login is answered before any view runs.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "coop.urls"
WSGI_APPLICATION = "coop.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "coop.context_processors.shell",
            ],
        },
    },
]

# --- Database: an external server from DATABASE_URL, else the embedded one under var/ ---------
DATABASE_URL = env("DATABASE_URL")
if not DATABASE_URL:
    from coop import embedded

    DATABASE_URL = embedded.database_url()
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=envint("CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
# A Unix-socket URL ("postgresql://user@/db?host=/path") arrives as an option; make it the host.
_db_options = DATABASES["default"].setdefault("OPTIONS", {})
if "host" in _db_options:
    DATABASES["default"]["HOST"] = _db_options.pop("host")
_db_options["connect_timeout"] = 5
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL")
if not REDIS_URL:
    from coop import embedded

    REDIS_URL = embedded.redis_url()

AUTH_USER_MODEL = "coop.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "workbench"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_AGE = envint("SESSION_COOKIE_AGE", 8 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# --- Login lockout (django-axes): N failures lock the account+address pair -------------------
AXES_FAILURE_LIMIT = envint("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = envint("AXES_COOLOFF_MINUTES", 30) / 60  # hours
# Lock the account, not the address: an outlet's tellers share one NAT address, and a per-address
# lockout would let one clerk's typos lock out the whole outlet (hence axes.W006 is silenced).
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

# --- Internationalisation: Simplified Chinese by default, English on request ------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
MEDIA_URL = "/media/"

# --- Security headers, set on every response ---------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_COOKIE_HTTPONLY = False  # HTMX reads the token from the page, not the cookie
SESSION_COOKIE_HTTPONLY = True
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)

# --- REST API ---------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: a request without credentials is answered 401 with WWW-Authenticate (DRF asks
    # the first class for the header), as the schema documents, rather than 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "coop.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "coop API",
    "DESCRIPTION": "Loan and service operations of a rural credit cooperative.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "coop.auth_api.document_error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "ComplaintKindEnum": "customers.models.Complaint.Kind",
        "ApprovalStageEnum": "risk.models.Stage",
        "CommitteeMeetingStatusEnum": "risk.models.CommitteeMeeting.Status",
        "CommitteeOutcomeEnum": "risk.models.CommitteeMeeting.Outcome",
        "RepaymentMethodEnum": "loans.models.RepaymentMethod",
        "CreditRatingEnum": "customers.models.CreditRating",
        "RiskRouteEnum": "loans.models.RiskRoute",
        "DayCountEnum": "loans.models.DayCount",
        "ProductKindEnum": "loans.models.Product.Kind",
        "ProductCustomerKindEnum": "loans.models.Product.CustomerKind",
        "ProductSecurityEnum": "loans.models.Product.Security",
        "LoanApplicationStateEnum": "loans.models.LoanApplication.State",
        "CustomerKindEnum": "customers.models.Customer.Kind",
        "GenderEnum": "customers.models.Customer.Gender",
        "OccupationEnum": "customers.models.Occupation",
        "WorkplaceEnum": "customers.models.Workplace",
        "IncomeBandEnum": "customers.models.IncomeBand",
        "PersonalDataFieldEnum": "customers.models.PersonalDataAccess.Field",
        "CustomerClassEnum": "customers.models.CustomerClass",
        "ManagingLevelEnum": "customers.models.ManagingLevel",
        "IndustryCategoryEnum": "customers.models.IndustryCategory",
        "CustomerCategoryEnum": "customers.models.CustomerCategory",
        "VisitChannelEnum": "customers.models.Visit.Channel",
        "VisitOutcomeEnum": "customers.models.Visit.Outcome",
        "ComplaintChannelEnum": "customers.models.Complaint.Channel",
        "ComplaintStateEnum": "customers.models.Complaint.State",
        "SurveyCampaignStateEnum": "surveys.models.Campaign.State",
        "ImprovementItemStateEnum": "surveys.models.ImprovementItem.State",
    },
}

# --- Celery (reliability rules in DESIGN.md) --------------------------------------------------
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = True
# A task is acknowledged only when it has finished, and a task whose worker died goes back on the
# queue: every task must therefore be idempotent (unique constraints, compare-and-set updates).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = envint("CELERY_TASK_TIME_LIMIT", 15 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = envint("CELERY_TASK_SOFT_TIME_LIMIT", 14 * 60)
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing from a request must fail fast when Redis is down (the sweep catches up later).
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# A message taken by a worker that then dies whole (machine lost, SIGKILL of the worker) goes back
# on the queue once it has been unacknowledged this long. No task outlives its hard time limit,
# so a timeout just above it never hands a running task to a second worker, and the wait after
# a lost worker is 20 minutes rather than Redis's default hour. Live workers look for such
# messages every CELERY_RESTORE_EVERY seconds (about 100 s by default).
CELERY_VISIBILITY_TIMEOUT = envint("CELERY_VISIBILITY_TIMEOUT", CELERY_TASK_TIME_LIMIT + 5 * 60)
if CELERY_VISIBILITY_TIMEOUT <= CELERY_TASK_TIME_LIMIT:
    raise ImproperlyConfigured(
        "CELERY_VISIBILITY_TIMEOUT must exceed CELERY_TASK_TIME_LIMIT, or a running task is "
        "handed to a second worker."
    )
CELERY_RESTORE_EVERY = envint("CELERY_RESTORE_EVERY", 0)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    "socket_timeout": 2,
    "socket_connect_timeout": 2,
    **(
        {"unacked_restore_interval": CELERY_RESTORE_EVERY, "unacked_restore_throttle": 1}
        if CELERY_RESTORE_EVERY
        else {}
    ),
}
CELERY_REDIS_SOCKET_TIMEOUT = 2
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 2
CELERY_BEAT_SCHEDULE_FILENAME = str(BASE_DIR / "var" / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE: dict = {
    "complaints-escalate-overdue": {
        "task": "customers.tasks_service.complaints_escalate_overdue",
        "schedule": crontab(minute=5),  # hourly
    },
    "loans-classify-nightly": {
        "task": "loans.tasks.loans_classify_nightly",
        "schedule": crontab(hour=1, minute=30),
    },
    "risk-escalations-sweep": {
        "task": "risk.escalations_sweep",
        "schedule": crontab(minute="*/10"),
    },
    "customers-segments-recompute": {
        "task": "customers.segments_recompute_all",
        "schedule": crontab(hour=1, minute=30),
    },
    # Materialized due contacts: each run creates the current period's missing rows only.
    "grid-followups-plan": {
        "task": "grid.followups_plan",
        "schedule": crontab(hour=0, minute=20),
    },
    "customers-contacts-plan": {
        "task": "customers.contacts_plan",
        "schedule": crontab(hour=2, minute=0),  # after the segments are recomputed
    },
    "risk-inspections-sweep": {
        "task": "risk.inspections_sweep",
        "schedule": crontab(minute=15),  # hourly
    },
    "risk-inspections-plan": {
        "task": "risk.inspections_plan",
        "schedule": crontab(hour=2, minute=30),  # after the 01:30 classification
    },
    "surveys-reminders-sweep": {
        "task": "surveys.reminders_sweep",
        "schedule": crontab(hour=9, minute=0),
    },
    "coop-dashboard-rollups-refresh": {
        "task": "coop.dashboard_rollups_refresh",
        "schedule": crontab(minute="*/10"),
    },
    "coop-dashboard-month-end-refresh": {
        "task": "coop.dashboard_month_end_refresh",
        "schedule": crontab(hour=2, minute=15),  # after the nightly classification (01:30)
    },
    "coop-taskruns-prune": {
        "task": "coop.taskruns_prune",
        "schedule": crontab(hour=3, minute=45),
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"personal_data": {"()": "coop.logging.PersonalDataFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["personal_data"],
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "pgserver": {"level": "WARNING"},
    },
}

COOP_NAME = env("COOP_NAME", "")

# Complaint handling (DOMAIN.md): decide within 15 days of acceptance, 30 for complex cases;
# urgent cases are the bank's own tighter target. Overdue cases escalate one level per grace
# period ("same-level response, escalated supervision").
COMPLAINT_DUE_DAYS = {"normal": 15, "complex": 30, "urgent": 5}
COMPLAINT_ESCALATION_GRACE_HOURS = envint("COMPLAINT_ESCALATION_GRACE_HOURS", 24)
COOP_DEMO_PASSWORDS = False
