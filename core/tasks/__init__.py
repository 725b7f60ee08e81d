"""One pipeline per method: data -> model -> metrics -> run (fit / embed / evaluate).

Modules are imported by name (``core.tasks.property``); this package imports nothing itself.
"""
