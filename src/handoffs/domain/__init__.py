"""The canonical model: pure Python, standard library only.

Nothing here performs I/O, reads the clock or draws random numbers; callers inject a
``Clock`` and an ``IdFactory`` (see ``ports``).
"""
