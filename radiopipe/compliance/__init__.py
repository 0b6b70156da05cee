"""IBSI compliance: radiopipe's features against the IBSI-1 reference values."""
