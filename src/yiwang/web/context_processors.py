from django.conf import settings


def site(request):
    user = getattr(request, "user", None)
    is_staff_member = bool(user and user.is_authenticated and getattr(user, "is_staff_member", False))
    return {
        "SITE_NAME": "一网通办",
        "HOTLINE": "12345",
        "LANGUAGES": settings.LANGUAGES,
        "is_staff_member": is_staff_member,
    }
