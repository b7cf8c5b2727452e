"""Desktop edge: the native window, the system tray and their platform helpers."""
