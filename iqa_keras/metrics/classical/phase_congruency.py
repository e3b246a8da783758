"""Phase congruency (Kovesi 1999, 2003), the feature map FSIM weights and compares.

Phase congruency is high where the Fourier components of an image are in
phase -- edges, lines, corners -- whatever their contrast, which is why FSIM
uses it as its main feature. This is the variant of Kovesi's ``phasecong2``
that FSIM's reference code uses:

* log-Gabor filters in the frequency domain, 4 scales (wavelengths 6, 12,
  24, 48 pixels; bandwidth ``sigma_onf = 0.55``) times 4 orientations
  (angular Gaussian spread ``pi / 4 / 1.2``), each multiplied by a
  Butterworth low-pass (cutoff 0.45, order 15) and with no DC response; the
  frequency grid is MATLAB's (``[-c/2, c/2) / c`` for an even side ``c``,
  ``[-(c-1)/2, (c-1)/2] / (c-1)`` for an odd one), so the filters, like the
  FFT, wrap around the image borders;
* per orientation, the energy along the mean phase,
  ``sum_s (E cos + O sin - |E sin - O cos|)``, minus a noise threshold
  estimated from the median squared response of the finest scale (Rayleigh
  model, ``k = 2``, the threshold divided by 1.7 as in FSIM's code), floored
  at 0;
* summed over orientations and divided by the summed amplitudes. Positions
  with no response at all (a constant image) get 0 instead of MATLAB's NaN.

Computed with float32/complex64 FFTs; sizes may be unknown until run time.
"""
from __future__ import annotations

import math

import tensorflow as tf

SCALES = 4
ORIENTATIONS = 4
MIN_WAVELENGTH = 6.0
MULT = 2.0
SIGMA_ONF = 0.55
D_THETA_ON_SIGMA = 1.2
NOISE_K = 2.0
EPSILON = 1e-4
LOWPASS_CUTOFF = 0.45
LOWPASS_ORDER = 15


def _frequency_axis(size):
    """MATLAB's normalised frequency coordinates of one axis (centred, before ``ifftshift``)."""
    size_f = tf.cast(size, tf.float32)
    index = tf.cast(tf.range(size), tf.float32)
    odd = tf.equal(size % 2, 1)
    offset = tf.where(odd, (size_f - 1.0) / 2.0, size_f / 2.0)
    scale = tf.where(odd, tf.maximum(size_f - 1.0, 1.0), size_f)
    return (index - offset) / scale


def log_gabor_filters(rows, cols):
    """The ``SCALES * ORIENTATIONS`` real frequency-domain filters, ``(ORIENTATIONS, SCALES, rows, cols)``.

    Laid out for unshifted FFTs (zero frequency at ``[0, 0]``).
    """
    x = _frequency_axis(cols)[None, :]
    y = _frequency_axis(rows)[:, None]
    radius = tf.sqrt(x * x + y * y)
    theta = tf.atan2(-y + 0.0 * x, x + 0.0 * y)
    lowpass = 1.0 / (1.0 + tf.pow(radius / LOWPASS_CUTOFF, 2.0 * LOWPASS_ORDER))
    radius = tf.signal.ifftshift(radius, axes=[0, 1])
    theta = tf.signal.ifftshift(theta, axes=[0, 1])
    lowpass = tf.signal.ifftshift(lowpass, axes=[0, 1])
    origin = tf.logical_and(tf.range(rows)[:, None] == 0, tf.range(cols)[None, :] == 0)
    radius = tf.where(origin, 1.0, radius)
    sin_theta, cos_theta = tf.sin(theta), tf.cos(theta)

    radial = []
    for scale in range(SCALES):
        centre = 1.0 / (MIN_WAVELENGTH * MULT**scale)
        response = tf.exp(-tf.square(tf.math.log(radius / centre)) / (2.0 * math.log(SIGMA_ONF) ** 2))
        radial.append(tf.where(origin, 0.0, response * lowpass))
    theta_sigma = math.pi / ORIENTATIONS / D_THETA_ON_SIGMA
    filters = []
    for orientation in range(ORIENTATIONS):
        angle = orientation * math.pi / ORIENTATIONS
        ds = sin_theta * math.cos(angle) - cos_theta * math.sin(angle)
        dc = cos_theta * math.cos(angle) + sin_theta * math.sin(angle)
        spread = tf.exp(-tf.square(tf.abs(tf.atan2(ds, dc))) / (2.0 * theta_sigma**2))
        filters.append(tf.stack([r * spread for r in radial]))
    return tf.stack(filters)


def _median_last_axis(values):
    """Median of non-negative values along the last axis (the mean of the two middle ones for an even count).

    Exact, like MATLAB's ``median``, but without sorting (``tf.sort`` of a
    whole image per orientation was half of FSIM's time): for non-negative
    float32 the int32 bit patterns are ordered like the values, so a 31-step
    bisection over bit patterns, counting the values at or below the middle,
    finds the lower middle value exactly; the upper one is either the same
    or the next larger value.
    """
    values = tf.convert_to_tensor(values, tf.float32)
    bits = tf.bitcast(values, tf.int32)
    count = tf.shape(values)[-1]
    rank = (count - 1) // 2 + 1  # how many values are at or below the lower middle one
    low = tf.zeros(tf.shape(values)[:-1], tf.int32)
    high = tf.fill(tf.shape(values)[:-1], tf.int32.max)
    for _ in range(31):
        middle = low + (high - low) // 2
        at_or_below = tf.reduce_sum(tf.cast(bits <= middle[..., None], tf.int32), axis=-1)
        enough = at_or_below >= rank
        high = tf.where(enough, middle, high)
        low = tf.where(enough, low, middle + 1)
    lower = tf.bitcast(high, tf.float32)
    at_or_below = tf.reduce_sum(tf.cast(bits <= high[..., None], tf.int32), axis=-1)
    next_value = tf.reduce_min(tf.where(bits > high[..., None], values, math.inf), axis=-1)
    upper = tf.where(at_or_below >= count // 2 + 1, lower, next_value)
    return 0.5 * (lower + upper)


def _noise_statistics(filters):
    """Per orientation: the filter energy of the finest scale, and the sums the noise model needs."""
    rows, cols = tf.shape(filters)[2], tf.shape(filters)[3]
    count = tf.cast(rows * cols, tf.float32)
    spatial = tf.math.real(tf.signal.ifft2d(tf.complex(filters, 0.0))) * tf.sqrt(count)  # (O, S, rows, cols)
    finest_energy = tf.reduce_sum(tf.square(filters[:, 0]), axis=[1, 2])
    sum_squares = tf.reduce_sum(tf.square(spatial), axis=[1, 2, 3])
    total = tf.reduce_sum(spatial, axis=1)
    # sum over scale pairs i < j of A_i A_j = ((sum A)^2 - sum A^2) / 2, per position
    sum_cross = tf.reduce_sum(0.5 * (tf.square(total) - tf.reduce_sum(tf.square(spatial), axis=1)), axis=[1, 2])
    return finest_energy, sum_squares, sum_cross


def phase_congruency(images):
    """``(batch, H, W)`` float32 grey images -> ``(batch, H, W)`` phase congruency on [0, 1]."""
    images = tf.convert_to_tensor(images, tf.float32)
    rows, cols = tf.shape(images)[1], tf.shape(images)[2]
    filters = log_gabor_filters(rows, cols)  # (O, S, H, W)
    spectrum = tf.signal.fft2d(tf.complex(images, 0.0))[:, None, None]  # (B, 1, 1, H, W)
    responses = tf.signal.ifft2d(spectrum * tf.complex(filters, 0.0)[None])  # (B, O, S, H, W)
    even, odd = tf.math.real(responses), tf.math.imag(responses)
    amplitude = tf.abs(responses)

    sum_even = tf.reduce_sum(even, axis=2)
    sum_odd = tf.reduce_sum(odd, axis=2)
    norm = tf.sqrt(sum_even * sum_even + sum_odd * sum_odd) + EPSILON
    mean_even = (sum_even / norm)[:, :, None]
    mean_odd = (sum_odd / norm)[:, :, None]
    energy = tf.reduce_sum(even * mean_even + odd * mean_odd - tf.abs(even * mean_odd - odd * mean_even), axis=2)

    finest_energy, sum_squares, sum_cross = _noise_statistics(filters)
    finest = amplitude[:, :, 0]
    flat = tf.reshape(tf.square(finest), tf.stack([tf.shape(images)[0], ORIENTATIONS, -1]))
    mean_noise = -_median_last_axis(flat) / math.log(0.5)  # (B, O): Rayleigh mean from the median
    noise_power = mean_noise / finest_energy
    noise_energy_sq = 2.0 * noise_power * sum_squares + 4.0 * noise_power * sum_cross
    tau = tf.sqrt(noise_energy_sq / 2.0)
    threshold = (tau * math.sqrt(math.pi / 2.0) + NOISE_K * tf.sqrt((2.0 - math.pi / 2.0) * tau * tau)) / 1.7
    energy = tf.nn.relu(energy - threshold[:, :, None, None])

    total_energy = tf.reduce_sum(energy, axis=1)
    total_amplitude = tf.reduce_sum(amplitude, axis=[1, 2])
    return tf.math.divide_no_nan(total_energy, total_amplitude)
