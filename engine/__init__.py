"""omniroute engine: the domain model and the optimisation, with no gRPC or protobuf.

Entry points: :class:`engine.planner.Planner` plans one order; :mod:`engine.validation`
checks inputs at the edge; :mod:`engine.cost` is the cost model of shared/DESIGN.md section 2.
"""
