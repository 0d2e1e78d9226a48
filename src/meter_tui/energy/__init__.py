"""Pure domain code: rates, costs and the capacity tariff. Knows nothing of Textual, SQLite or the serial port."""
