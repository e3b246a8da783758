"""Every loss refuses targets that are NaN or infinite, instead of returning NaN without a word.

A NaN target makes the loss and every gradient NaN; training then goes on
with weights that are all NaN, and nothing says which input was at fault.
:func:`require_finite_targets` wraps a loss class's ``__call__`` so that
``y_true`` is checked first: eagerly it raises a ``ValueError`` naming the
loss; inside a traced graph (``model.fit``) a TensorFlow check op raises an
``InvalidArgumentError`` with the same message. (Under XLA the check is
compiled out; training's non-finite-loss stop covers that case.)
``iqa_keras.losses`` applies it to every registered loss.
"""
from __future__ import annotations

import numpy as np


def _message(name: str) -> str:
    return f"loss {name}: the targets (y_true) hold NaN or infinite values; every target must be a finite number"


def checked_targets(y_true, name: str):
    """``y_true``, checked to be finite (floating dtypes only)."""
    import keras

    if keras.backend.backend() != "tensorflow":
        return _checked_other_backend(y_true, name)
    import tensorflow as tf

    y_true = tf.convert_to_tensor(y_true)
    if not y_true.dtype.is_floating:
        return y_true
    if tf.executing_eagerly():
        if not np.isfinite(y_true.numpy()).all():
            raise ValueError(_message(name))
        return y_true
    return tf.debugging.assert_all_finite(y_true, _message(name))


def _checked_other_backend(y_true, name: str):
    """JAX and others: checked when the values are concrete; a traced (jit-compiled) step is left to training's
    non-finite-loss stop, as under XLA."""
    import keras

    if type(y_true).__module__.startswith("jax") and "Tracer" in type(y_true).__name__:
        return y_true
    values = keras.ops.convert_to_numpy(y_true)
    if np.issubdtype(values.dtype, np.floating) and not np.isfinite(values).all():
        raise ValueError(_message(name))
    return y_true


def require_finite_targets(cls):
    """Class decorator: ``cls(...)(y_true, y_pred)`` checks ``y_true`` before computing the loss."""
    if getattr(cls, "_checks_finite_targets", None) is cls:
        return cls
    original = cls.__call__

    def __call__(self, y_true, y_pred, sample_weight=None):
        return original(self, checked_targets(y_true, self.name), y_pred, sample_weight)

    __call__.__doc__ = original.__doc__
    cls.__call__ = __call__
    cls._checks_finite_targets = cls
    return cls
