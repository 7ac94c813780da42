"""The Slack front-end: slack-bolt AsyncApp over the core. See `bots.slack.app`."""

from bots.slack.app import build_slack_app, handle_slack_events, start_slack

__all__ = ["build_slack_app", "handle_slack_events", "start_slack"]
