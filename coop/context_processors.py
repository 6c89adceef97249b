from django.conf import settings

from coop.roles import role_label, user_roles


def shell(request):
    user = getattr(request, "user", None)
    roles = user_roles(user) if user is not None else []
    return {
        "coop_name": settings.COOP_NAME,
        "current_roles": [(code, role_label(code)) for code in roles],
    }
