"""Optimizers and learning-rate schedules of a training run.

:class:`StepDecay` multiplies the rate by ``decay_factor`` every ``decay_every``
epochs (``decay_offset`` = 1 counts epochs from 1, as the NTIRE 2021 reference's
``floor((1 + epoch) / drop)`` did, so each drop comes one epoch earlier).
:class:`PhaseRates` is a piecewise-constant schedule, a list of (epochs, rate)
phases, for recipes that were run by hand phase after phase (the Keras NIMA
reproduction: 1 epoch at 1e-3 with the backbone frozen, then 1e-4, 5e-6, 5e-7).
:class:`TwoRateAdam` is Adam with one learning rate for a model's
backbone and another for everything else:

Keras 3's Adam has a single learning rate. NIMA fine-tuning uses two (the PyTorch
NIMA reproduction on TID2013: 3.7e-5 for the head, 1.4e-4 for the backbone) and a first phase with the
backbone frozen (idealo's and the Keras NIMA reproduction's schedule). :class:`TwoRateAdam` is
Adam whose update of a backbone variable uses ``learning_rate *
backbone_scale``; ``backbone_scale`` is an optimizer variable, so a callback
can set it to 0 to freeze the backbone and back to the configured ratio
afterwards without re-tracing or re-building anything, and it is saved and
restored with the optimizer's other variables (resume keeps working).

Which variables belong to the backbone is bound once with :meth:`bind`
(the trainable variables of the layer named ``backbone_layer``). A frozen
backbone (scale 0) still computes its gradients and, being in training mode,
still updates its BatchNormalization statistics, as the NIMA reproductions' Keras 2.2
models did when their base layers were set to non-trainable.
"""
from __future__ import annotations

import keras
import logging

from ..layers import PACKAGE

logger = logging.getLogger(__name__)


class StepDecay(keras.callbacks.Callback):
    """Learning rate ``lr0 * factor ** ((epoch + offset) // every)`` (epochs from 0), set at each epoch start.

    ``offset`` = 0 drops the rate after ``every`` full epochs; ``offset`` = 1 is
    the NTIRE 2021 reference's ``floor((1 + epoch) / every)``, one epoch earlier
    (with ``every`` = 10 the tenth epoch already runs at the lower rate).
    Depends only on the epoch number, so a resumed run gets the right rate.
    """

    def __init__(self, initial_lr: float, factor: float, every: int, offset: int = 0):
        super().__init__()
        self.initial_lr, self.factor, self.every = float(initial_lr), float(factor), int(every)
        self.offset = int(offset)

    def rate(self, epoch: int) -> float:
        if self.every <= 0:
            return self.initial_lr
        return self.initial_lr * self.factor ** ((epoch + self.offset) // self.every)

    def on_epoch_begin(self, epoch, logs=None):
        self.model.optimizer.learning_rate.assign(self.rate(epoch))

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["lr"] = self.rate(epoch)


class PhaseRates(StepDecay):
    """Piecewise-constant rates: ``phases`` = [(epochs, rate), ...] in order; the last rate continues.

    Depends only on the epoch number, so a resumed run gets the right rate.
    """

    def __init__(self, phases):
        self.phases = [(int(epochs), float(rate)) for epochs, rate in phases]
        if not self.phases or any(epochs <= 0 or rate <= 0 for epochs, rate in self.phases):
            raise ValueError(f"PhaseRates: expected (epochs > 0, rate > 0) phases, got {phases!r}")
        super().__init__(self.phases[0][1], 1.0, 0)

    def rate(self, epoch: int) -> float:
        end = 0
        for epochs, rate in self.phases:
            end += epochs
            if epoch < end:
                return rate
        return self.phases[-1][1]


@keras.saving.register_keras_serializable(package=PACKAGE)
class TwoRateAdam(keras.optimizers.Adam):
    """Adam; backbone variables step with ``learning_rate * backbone_scale``.

    ``backbone_multiplier``: the configured ratio backbone rate / head rate
    (the initial value of the ``backbone_scale`` variable).
    """

    def __init__(self, learning_rate=1e-3, backbone_multiplier: float = 1.0, backbone_layer: str = "backbone",
                 **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        if float(backbone_multiplier) < 0:
            raise ValueError(f"TwoRateAdam: backbone_multiplier must be >= 0, got {backbone_multiplier}")
        self.backbone_multiplier = float(backbone_multiplier)
        self.backbone_layer = str(backbone_layer)
        self._backbone_keys: set = set()
        self.backbone_scale = None

    def bind(self, model: keras.Model) -> "TwoRateAdam":
        """Records the trainable variables of ``model``'s layer ``backbone_layer`` as the backbone's."""
        try:
            layer = model.get_layer(self.backbone_layer)
        except ValueError:
            raise ValueError(
                f"TwoRateAdam: model {model.name!r} has no layer named {self.backbone_layer!r}; two learning "
                "rates and a frozen first phase need a model with a backbone (e.g. architecture = \"nima\")"
            ) from None
        self._backbone_keys = {self._var_key(v) for v in layer.trainable_variables}
        if not self._backbone_keys:
            raise ValueError(f"TwoRateAdam: layer {self.backbone_layer!r} has no trainable variables")
        return self

    @property
    def bound(self) -> bool:
        return bool(self._backbone_keys)

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self.backbone_scale = self.add_variable(
            shape=(), initializer=keras.initializers.Constant(self.backbone_multiplier), name="backbone_scale"
        )

    def set_backbone_scale(self, value: float) -> None:
        """0 freezes the backbone; ``backbone_multiplier`` is the configured two-rate schedule."""
        if self.backbone_scale is None:
            raise ValueError("TwoRateAdam: build the optimizer (or start training) before setting the scale")
        self.backbone_scale.assign(float(value))

    def update_step(self, gradient, variable, learning_rate):
        if self._var_key(variable) in self._backbone_keys:
            learning_rate = learning_rate * keras.ops.cast(self.backbone_scale, "float32")
        return super().update_step(gradient, variable, learning_rate)

    def get_config(self):
        return {**super().get_config(), "backbone_multiplier": self.backbone_multiplier,
                "backbone_layer": self.backbone_layer}


class BackboneSchedule(keras.callbacks.Callback):
    """Freezes the backbone (scale 0) for the first ``freeze_epochs`` epochs, then uses the two rates.

    Depends only on the epoch number, so a resumed run gets the right phase.
    Logs ``backbone_lr`` (the backbone's rate after any step decay).
    """

    def __init__(self, freeze_epochs: int = 0):
        super().__init__()
        self.freeze_epochs = int(freeze_epochs)

    def _optimizer(self) -> TwoRateAdam:
        optimizer = self.model.optimizer
        if not isinstance(optimizer, TwoRateAdam):
            raise TypeError("BackboneSchedule needs the model compiled with a TwoRateAdam optimizer")
        if not optimizer.built:
            optimizer.build(self.model.trainable_variables)
        return optimizer

    def scale(self, epoch: int, optimizer: TwoRateAdam) -> float:
        return 0.0 if epoch < self.freeze_epochs else optimizer.backbone_multiplier

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self._optimizer()
        scale = self.scale(epoch, optimizer)
        optimizer.set_backbone_scale(scale)
        if epoch == self.freeze_epochs and self.freeze_epochs > 0:
            logger.info(f"Epoch {epoch + 1}: backbone unfrozen (rate x {scale:g} of the head's)")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            optimizer = self._optimizer()
            logs["backbone_lr"] = float(keras.ops.convert_to_numpy(optimizer.learning_rate)) * self.scale(
                epoch, optimizer)


def make_optimizer(config, model: keras.Model) -> keras.optimizers.Optimizer:
    """The config's optimizer: Adam, or TwoRateAdam bound to ``model`` when the backbone has its own
    rate or a frozen first phase (``optimizer.backbone_learning_rate``, ``train.freeze_backbone_epochs``)."""
    head = float(config.optimizer.learning_rate)
    backbone = config.optimizer.backbone_learning_rate
    if backbone is None and not config.train.freeze_backbone_epochs:
        return keras.optimizers.Adam(learning_rate=head, clipnorm=config.optimizer.clipnorm)
    backbone = head if backbone is None else float(backbone)
    optimizer = TwoRateAdam(learning_rate=head, backbone_multiplier=backbone / head,
                            clipnorm=config.optimizer.clipnorm)
    try:
        return optimizer.bind(model)
    except ValueError as error:
        raise ValueError(f"{config.source}: optimizer.backbone_learning_rate / train.freeze_backbone_epochs: "
                         f"{error}") from None


def schedule_callbacks(config, model: keras.Model) -> list:
    """The learning-rate schedule: step decay (or the configured phases), plus the backbone's phases
    under a TwoRateAdam (the backbone follows the head's rate times the configured ratio)."""
    optimizer = config.optimizer
    if optimizer.phases:
        callbacks = [PhaseRates([(phase["epochs"], phase["learning_rate"]) for phase in optimizer.phases])]
    else:
        callbacks = [StepDecay(optimizer.learning_rate, optimizer.decay_factor, optimizer.decay_every,
                               optimizer.decay_offset)]
    if isinstance(model.optimizer, TwoRateAdam):
        callbacks.append(BackboneSchedule(config.train.freeze_backbone_epochs))
    return callbacks
