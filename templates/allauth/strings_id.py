# ruff: noqa: E501
"""django-allauth's own strings, re-translated for Indonesian pages (never imported).

allauth's Indonesian catalogue writes "anda" in lower case and "e-mail", next to our "Anda",
"email" and "Kata sandi" (docs/glossary-id.md). The project catalogue (locale/, first in
LOCALE_PATHS) wins over allauth's, so each string listed here is translated again there. Listing
them in Python keeps ``makemessages`` from dropping them as unused (a file under locale/ would
not be read, and a template would escape their ``%`` placeholders). Generated from allauth's
catalogue: only the strings whose Indonesian text needed one of those corrections.
"""

from django.utils.translation import gettext


def allauth_strings() -> None:  # pragma: no cover - read by makemessages only
    gettext("This email address is already associated with this account.")
    gettext("The email address and/or password you specified are not correct.")
    gettext("The phone number and/or password you specified are not correct.")
    gettext("A user is already registered with this email address.")
    gettext("You cannot add more than %d email addresses.")
    gettext("The email address is not assigned to any user account.")
    gettext("Your primary email address must be verified.")
    gettext("The username and/or password you specified are not correct.")
    gettext("Email")
    gettext("Email address")
    gettext("Username or email")
    gettext("Email or phone")
    gettext("Email (again)")
    gettext("Email address confirmation")
    gettext("Email (optional)")
    gettext("You must type the same email each time.")
    gettext("email address")
    gettext("email addresses")
    gettext("email confirmation")
    gettext("email confirmations")
    gettext("Your account has no verified email address.")
    gettext("Email Verification")
    gettext("Enter Email Verification Code")
    gettext("Use a different email address")
    gettext("Password Reset")
    gettext("Enter Password Reset Code")
    gettext("Email Addresses")
    gettext("The following email addresses are associated with your account:")
    gettext("Add Email Address")
    gettext("Add Email")
    gettext("Do you really want to remove the selected email address?")
    gettext("Your email has been changed from %(from_email)s to %(to_email)s.")
    gettext("Email Changed")
    gettext("Your email has been confirmed.")
    gettext("Email Confirmation")
    gettext("Your email verification code is listed below. Please enter it in your open browser window.")
    gettext("Please Confirm Your Email Address")
    gettext("Email address %(deleted_email)s has been removed from your account.")
    gettext("Email Removed")
    gettext("Password Changed")
    gettext("Password Reset Code")
    gettext(
        "You're receiving this email because you or someone else has requested a password reset for your user account.\nIt can be safely ignored if you did not request a password reset. Click the link below to reset your password."
    )
    gettext("Password Reset Email")
    gettext("Password Set")
    gettext("Confirm Email Address")
    gettext(
        'Please confirm that <a href="mailto:%(email)s">%(email)s</a> is an email address for user %(user_display)s.'
    )
    gettext(
        'This email confirmation link expired or is invalid. Please <a href="%(email_url)s">issue a new email confirmation request</a>.'
    )
    gettext("You cannot remove your primary email address (%(email)s).")
    gettext("Confirmation email sent to %(email)s.")
    gettext("Removed email address %(email)s.")
    gettext("Primary email address set.")
    gettext("Change Password")
    gettext("Forgot Password?")
    gettext("Reset My Password")
    gettext("Set Password")
    gettext(
        "You currently do not have any email address set up. You should really add an email address so you can receive notifications, reset your password, etc."
    )
    gettext("Verify Your Email Address")
    gettext(
        "We have sent an email to you for verification. Follow the link provided to finalize the signup process. If you do not see the verification email in your main inbox, check your spam folder. Please contact us if you do not receive the verification email within a few minutes."
    )
    gettext(
        "This part of the site requires us to verify that\nyou are who you claim to be. For this purpose, we require that you\nverify ownership of your email address. "
    )
    gettext(
        "We have sent an email to you for\nverification. Please click on the link inside that email. If you do not see the verification email in your main inbox, check your spam folder. Otherwise\ncontact us if you do not receive it within a few minutes."
    )
    gettext('<strong>Note:</strong> you can still <a href="%(email_url)s">change your email address</a>.')
