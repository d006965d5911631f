"""Offline risk work: what an analyst runs on history, never the lodging path.

``datasets``           the packaged KCS declarations (a labelled history)
``kcs_files``          reading an administration's own labelled history in the KCS columns
``evaluation``         a model trained per seed, tested on later data, mean and spread
``evaluation_report``  the evaluation command's report (tables and figures)
``replay``             the real loop replayed: select by capacity, learn only what was inspected
``plot``               the figures of the evaluation and the replay
"""
