"""Archival documents: fonts, text layout and the PDF/A-3b engine they are rendered with."""
