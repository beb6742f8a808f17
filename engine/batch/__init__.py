"""Detection over many scenes on Dask: exemplars clicked once, scenes as tasks, one merged layer.

``deal exemplars save`` and ``deal batch`` (:mod:`engine.batch.command`) drive
:func:`engine.batch.runner.run_batch`; :mod:`engine.batch.worker` is what runs on the workers and
:mod:`engine.batch.parts` keeps finished scenes so that a rerun resumes.
"""
