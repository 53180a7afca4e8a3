"""Authentication backend.

Every login goes through :mod:`yiwang.accounts.services` (password + TOTP for staff, phone code for
persons, the unified identity provider) so throttling, TOTP and auditing cannot be skipped. The backend
therefore authenticates nothing itself; it only restores the user of a session and answers Django's
model permissions for the admin site.
"""

from django.contrib.auth.backends import ModelBackend


class AccountBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        return None

    def user_can_authenticate(self, user) -> bool:
        return getattr(user, "is_active", False)
