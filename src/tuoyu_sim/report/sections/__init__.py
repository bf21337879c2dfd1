"""The sections of the report page, one module each, in page order.

Each section function takes the :class:`~tuoyu_sim.report.page._Page` being
built and appends its section to it, or nothing when the results hold nothing
for it: :mod:`.headline`, :mod:`.care_types`, :mod:`.facilities` (which also
returns the facilities worst first, for the next two), :mod:`.groups`,
:mod:`.figures`, :mod:`.plan`, :mod:`.sweep`, :mod:`.access`, :mod:`.takeup`,
:mod:`.assumptions` and :mod:`.provenance`.
"""
