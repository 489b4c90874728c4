"""Running Amtstermin as district IT runs its services: metrics, backups, webhooks' delivery."""
