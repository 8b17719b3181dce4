from django_countries import fields


class CountryField(fields.CountryField):
    """django-countries' field, checked by its code.

    Django's Field.validate walks every (code, name) choice, and django-countries lists its
    ~250 translated names anew for each walk: 0.8 ms each time an order is checked, a tenth
    of the work of a sign-up. A known code is one dict lookup; anything else still takes
    Django's path, with its message.
    """

    def validate(self, value, model_instance):
        code = getattr(value, "code", value)
        if not self.multiple and code in self.countries:
            return
        super().validate(value, model_instance)

    def deconstruct(self):
        # The column is django-countries' own: migrations keep naming that field, so this
        # class needs none (on SQLite an altered field would rebuild the table and its guards).
        name, _path, args, kwargs = super().deconstruct()
        return name, "django_countries.fields.CountryField", args, kwargs
