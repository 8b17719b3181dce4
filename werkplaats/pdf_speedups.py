"""Two of WeasyPrint's busiest steps, done faster to the same result, for the documents of the
PDF engine (werkplaats/pdf.py). Issue 28 asks a warm invoice render at or below pretix's.

1. Text layouts. WeasyPrint makes a Pango layout for every line it breaks and again for every
   line it draws (`Layout.setup`), each time with a new Pango context (font map, base
   direction, language) and a new font description, the same for every line of one style.
   Here both are kept per font configuration and shared. Sharing changes nothing in a
   layout: Pango copies the font description into each layout, and only reads the context,
   which nothing changes once it is made.
2. Computed styles. The first time layout asks an element for a property (some 1,100 times
   for an invoice), WeasyPrint's `ComputedStyle.__missing__` goes through every case of the
   cascade. Nine in ten are for a property the stylesheets do not set on the element, whose
   value is then the parent's (an inherited property) or the initial one: those are answered
   here directly, all others by WeasyPrint.

They save some 3% and 5% of a warm invoice render, to the same bytes. Only documents rendered with
`font_configuration()` take these paths; any other use of WeasyPrint keeps WeasyPrint's own.
Both mirror WeasyPrint 70.0 (pinned in pyproject.toml): tests/test_pdf_speedups.py knows the
source of each WeasyPrint function mirrored here, and fails when a new WeasyPrint changes it.
"""

import functools


def font_configuration():
    """A WeasyPrint FontConfiguration whose documents take the faster paths."""
    return _installed()()


@functools.cache
def _installed():
    """Puts the faster paths in place (once per process); the class of the font configuration
    whose documents take them."""
    from weasyprint import css
    from weasyprint.text import line_break
    from weasyprint.text.fonts import FontConfiguration

    class SharingFontConfiguration(FontConfiguration):
        def __init__(self):
            super().__init__()
            # (direction, lang, font-language-override) -> (Pango context, Pango language)
            self.pango_contexts = {}
            # What get_font_description reads of a style -> the font description.
            self.font_descriptions = {}

    line_break.Layout.setup = _layout_setup(line_break.Layout.setup, SharingFontConfiguration)
    css.ComputedStyle.__missing__ = _computed_style_missing(
        css.ComputedStyle.__missing__, SharingFontConfiguration
    )
    return SharingFontConfiguration


def _layout_setup(weasyprint_setup, sharing):
    """WeasyPrint 70.0's Layout.setup, with the Pango context, the language and the font
    description taken from those the font configuration keeps."""
    from weasyprint.text.constants import LST_TO_ISO, PANGO_DIRECTION
    from weasyprint.text.ffi import FROM_UNITS, ffi, gobject, pango, unicode_to_char_p
    from weasyprint.text.fonts import font_features, get_font_description

    def new_context(font_map, direction, lang, language_override):
        context = ffi.gc(pango.pango_font_map_create_context(font_map), gobject.g_object_unref)
        pango.pango_context_set_round_glyph_positions(context, False)
        pango.pango_context_set_base_dir(context, PANGO_DIRECTION[direction])
        if language_override != "normal":
            lang = LST_TO_ISO.get(language_override.lower(), language_override)
        if not lang:
            return context, pango.pango_language_get_default()
        language = pango.pango_language_from_string(unicode_to_char_p(lang)[0])
        pango.pango_context_set_language(context, language)
        return context, language

    def setup(self, style):
        configuration = style.font_config
        if type(configuration) is not sharing:
            return weasyprint_setup(self, style)
        self.style = style
        self.first_line_direction = 0

        # Asked for every line, so kept plain: a key of the values the context is made of,
        # and one of those get_font_description reads.
        key = (style["direction"], style["lang"], style["font_language_override"])
        try:
            context, self.language = configuration.pango_contexts[key]
        except KeyError:
            made = configuration.pango_contexts[key] = new_context(configuration.font_map, *key)
            context, self.language = made

        assert not isinstance(style["font_family"], str), "font_family should be a list"
        font = (
            style["font_family"],
            style["font_style"],
            style["font_stretch"],
            style["font_weight"],
            style["font_size"],
            style["font_variant_caps"],
            style["font_variation_settings"],
        )
        # (Computed values are strings, numbers and tuples: the key is always hashable.)
        try:
            description = configuration.font_descriptions[font]
        except KeyError:
            description = configuration.font_descriptions[font] = get_font_description(style)
        self.layout = ffi.gc(pango.pango_layout_new(context), gobject.g_object_unref)
        pango.pango_layout_set_auto_dir(self.layout, False)
        pango.pango_layout_set_font_description(self.layout, description)

        # The rest as WeasyPrint has it.
        if style["text_decoration_line"] != "none":
            metrics = ffi.gc(
                pango.pango_context_get_metrics(context, description, self.language),
                pango.pango_font_metrics_unref,
            )
            self.ascent = FROM_UNITS * pango.pango_font_metrics_get_ascent(metrics)
            self.underline_position = FROM_UNITS * (
                pango.pango_font_metrics_get_underline_position(metrics)
            )
            self.strikethrough_position = FROM_UNITS * (
                pango.pango_font_metrics_get_strikethrough_position(metrics)
            )
            self.underline_thickness = FROM_UNITS * (
                pango.pango_font_metrics_get_underline_thickness(metrics)
            )
            self.strikethrough_thickness = FROM_UNITS * (
                pango.pango_font_metrics_get_strikethrough_thickness(metrics)
            )
        else:
            self.ascent = None
            self.underline_position = None
            self.strikethrough_position = None

        features = font_features(
            style["font_kerning"],
            style["font_variant_ligatures"],
            style["font_variant_position"],
            style["font_variant_caps"],
            style["font_variant_numeric"],
            style["font_variant_alternates"],
            style["font_variant_east_asian"],
            style["font_feature_settings"],
        )
        if features:
            features = ",".join(f"{key} {value}" for key, value in features.items()).encode()
            attr = configuration.font_features.setdefault(
                features, pango.pango_attr_font_features_new(features)
            )
            attr_list = pango.pango_attr_list_new()
            pango.pango_attr_list_insert(attr_list, attr)
            pango.pango_layout_set_attributes(self.layout, attr_list)

    setup.weasyprint = weasyprint_setup
    return setup


def _computed_style_missing(weasyprint_missing, sharing):
    """WeasyPrint 70.0's ComputedStyle.__missing__ for a property not set on the element:
    WeasyPrint's own path comes to the parent's value for an inherited property (whatever
    that value is) and to the initial value otherwise, computed when WeasyPrint computes it,
    and to nothing else. All other properties go to WeasyPrint's own path: one the cascade
    set (directly or by its logical name, margin-inline-start for margin-left), one whose
    computation WeasyPrint treats apart (float, display and position, page, text
    decorations), and custom properties."""
    from weasyprint import css

    apart = {"float", "display", "position", "page"}
    # Per property answered here: whether it is inherited, its initial value, the function
    # that computes that value when WeasyPrint computes it, and the function giving its
    # logical name. A custom property has none.
    plans = {
        key: (
            key in css.INHERITED,
            value,
            css.COMPUTER_FUNCTIONS.get(key) if key in css.INITIAL_NOT_COMPUTED else None,
            css.PHYSICAL_FUNCTIONS.get(key),
        )
        for key, value in css.INITIAL_VALUES.items()
        if key not in apart and not key.startswith("text_decoration_")
    }

    def missing(self, key):
        plan = plans.get(key)
        if plan is None or key in self.cascaded or type(self.font_config) is not sharing:
            return weasyprint_missing(self, key)
        inherited, value, compute, logical_name = plan
        if logical_name and logical_name(block="ttb", inline=self["direction"]) in self.cascaded:
            return weasyprint_missing(self, key)
        if inherited and self.parent_style is not None:
            value = self[key] = self.parent_style[key]
            return value
        if compute is not None:
            value = compute(self, key, value)
        self[key] = value
        return value

    missing.weasyprint = weasyprint_missing
    return missing
