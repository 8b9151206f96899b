"""The editor's model in plain Python: node specs, documents, files, validation, training, export.

Nothing under ``app.graph`` imports Qt, so all of it runs headless.
"""
