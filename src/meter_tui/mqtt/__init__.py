"""The meter's live values for home automation over MQTT, with Home Assistant discovery (the `mqtt` extra)."""
