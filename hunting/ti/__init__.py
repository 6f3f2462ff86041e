"""Threat-intelligence providers: one interface (``base.Provider``), one result table (``TI_RESULTS``)."""
