"""The PySide6 editor: the only package of nodegrad that imports Qt."""
