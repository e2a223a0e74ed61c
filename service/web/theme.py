"""The shop's colours as CSS custom properties, with text that stays readable on them."""

from __future__ import annotations


def _luminance(hex_colour: str) -> float:
    """WCAG relative luminance of #rrggbb."""
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def text_colour_on(background: str) -> str:
    """Black or white, whichever contrasts more (WCAG 2 AA needs 4.5:1 for text)."""
    return (
        "#ffffff"
        if contrast(background, "#ffffff") >= contrast(background, "#000000")
        else "#000000"
    )


def theme_css(brand: str) -> str:
    # :host too: the widget links this sheet inside its shadow root.
    return f":root,:host{{--fb-brand:{brand};--fb-on-brand:{text_colour_on(brand)}}}\n"
