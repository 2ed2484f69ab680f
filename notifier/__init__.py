"""The notifier room: turn-approach policy, the durable outbox, the Telegram bot and SMS gateways."""
