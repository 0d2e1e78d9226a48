"""meter-tui: watch a Belgian digital electricity meter from its P1 port."""

__version__ = "0.1.0"
