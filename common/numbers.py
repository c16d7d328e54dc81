"""The bounds of the 64-bit integers every database column, every JSON body and the OpenAPI schema share."""

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
