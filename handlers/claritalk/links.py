"""Claritalk's connect links: the shared signed, single-use links (``handlers.oauth.links``)
with Claritalk's own purposes, so that no other kind of link opens a Claritalk connection."""

from __future__ import annotations

from handlers.oauth.links import MAX_TOKEN, InvalidLink, LinkClaim, LinkSigner

__all__ = [
    "MAX_TOKEN",
    "SIGNER",
    "InvalidLink",
    "LinkClaim",
    "confirm_code",
    "confirm_matches",
    "sign_link",
    "verify_link",
]

SIGNER = LinkSigner(
    link_purpose=b"debrief/claritalk/connect-link/v1",
    confirm_purpose=b"debrief/claritalk/connect-confirm/v1",
)

sign_link = SIGNER.sign
verify_link = SIGNER.verify
confirm_code = SIGNER.confirm_code
confirm_matches = SIGNER.confirm_matches
