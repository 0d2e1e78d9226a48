"""The Textual app: a screen per job (live, history, peak, telegram, settings), fed by the meter worker."""
