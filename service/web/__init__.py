"""The customers' chat page and widget: static ES modules, and server-rendered pages for
browsers without JavaScript."""
