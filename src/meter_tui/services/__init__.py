"""Services: what the front ends show, computed from the adapters (history, sources) with the domain's rules: the
prices, the history, the live state and the views of them."""
