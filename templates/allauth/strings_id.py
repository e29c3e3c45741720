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
    gettext("Please type your current password.")
    gettext("Invalid login.")
    gettext("The password reset token was invalid.")
    gettext("Remember Me")
    gettext("Password (again)")
    gettext("New Password (again)")
    gettext("You must type the same password each time.")
    gettext("Account Inactive")
    gettext("Confirm Access")
    gettext("Please reauthenticate to safeguard your account.")
    gettext("Unverified")
    gettext("Make Primary")
    gettext("Re-send Verification")
    gettext("Email Address")
    gettext("Change Email")
    gettext("Cancel Change")
    gettext("Changing to")
    gettext("Account Already Exists")
    gettext("Unknown Account")
    gettext("You have confirmed %(email)s.")
    gettext("Password successfully set.")
    gettext("Bad Token")
    gettext(
        'The password reset link was invalid, possibly because it has already been used.  Please request a <a href="%(passwd_reset_url)s">new password reset</a>.'
    )
    gettext("Your password has been reset.")
    gettext("Your password reset code is listed below. Please enter it in your open browser window.")
    gettext("Please contact us if you have any trouble resetting your password.")
    gettext(
        "Forgotten your password? Enter your email address below, and we'll send you an email allowing you to reset it."
    )
    gettext(
        "We have sent you an email. If you have not received it please check your spam folder. Otherwise contact us if you do not receive it in a few minutes."
    )
    gettext("Sign Up Closed")
    gettext("We are sorry, but the sign up is currently closed.")
    gettext("Two-Factor Authentication")
    gettext("A new set of Two-Factor Authentication recovery codes has been generated.")
    gettext("New Recovery Codes Generated")
    gettext("Authenticator App Activated")
    gettext("Authenticator App Deactivated")
    gettext("Authenticator App")
    gettext("Recovery Codes")
    gettext("Activate Authenticator App")
    gettext("Deactivate Authenticator App")
    gettext("TOTP Authenticator")
    gettext("expires at")
    gettext("If you have not created an account yet, then please %(link)ssign up%(end_link)s first.")
    # Django's own password rules (django.contrib.auth), shown on the sign-up and password pages.
    gettext("Your password can’t be too similar to your other personal information.")  # noqa: RUF001 — Django's own msgid, character for character
    gettext("Your password can’t be a commonly used password.")  # noqa: RUF001 — Django's own msgid, character for character
    gettext("Your password can’t be entirely numeric.")  # noqa: RUF001 — Django's own msgid, character for character
