"""Connecting a Slack user's account elsewhere by OAuth's authorization code, for any feature
(Claritalk accounts, Google and Microsoft calendars): signed single-use connect links
(``links``), the page that asks before going on and binds the sign-in to that browser
(``flow``), single-use states bound to the Slack user and the browser (``states``, ``tables``),
and the small hardened pages the browser sees (``pages``, ``names``).

A feature describes its connection with a :class:`handlers.oauth.flow.ConsentFlow` and says
what to do with the authorization code; everything before that is done here, once.
"""
