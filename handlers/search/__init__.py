"""Search and ask: every digested meeting stored and indexed, found again from Slack."""
