"""The calendar autopilot: notetakers join people's calendar meetings by themselves, following
each person's policy, and the owner stays in charge through DMs."""
