"""The Type protocol: what values a Variable may hold, and how to check them."""

from symtensor.graph.basic import Constant, Variable


class Type:
    """Base of all types. Subclasses define ``filter`` and equality."""

    variable_type = Variable
    constant_type = Constant

    def filter(self, data, strict=False, allow_downcast=None):
        """Return ``data`` as a valid value of this type, or raise TypeError."""
        raise NotImplementedError

    def is_valid_value(self, data):
        try:
            self.filter(data, strict=True)
            return True
        except (TypeError, ValueError):
            return False

    def value_signature(self, data):
        """A hashable summary of a constant value, used to merge equal constants."""
        return data

    def values_eq(self, a, b):
        return a == b

    def values_eq_approx(self, a, b):
        return self.values_eq(a, b)

    def make_variable(self, name=None):
        return self.variable_type(self, None, None, name)

    def make_constant(self, value, name=None):
        return self.constant_type(self, value, name)

    def __call__(self, name=None):
        return self.make_variable(name)

    def is_super(self, other):
        """True when every value of ``other`` is a value of self."""
        return self == other

    def convert_variable(self, var):
        """``var`` re-typed as this type when that is safe, else None."""
        if var.type == self:
            return var
        return None
