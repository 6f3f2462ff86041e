"""Streamlit glue shared by every page: the sidebar, cached data access, safe rendering.

Only this package and the page scripts import streamlit; hunting/ stays plain Python.
"""
