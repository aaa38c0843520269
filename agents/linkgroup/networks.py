"""Networks of the link-group learners: per-receiver CNN encoder, Gaussian actor, hybrid critic.

The observation of ``LinkGroupSched-v0`` (see its docstring) is rearranged into a *receiver
image* ``X`` of shape ``(C, K)``: for receiver ``k`` the FSMC levels of its ``J`` links, its
delivered fraction, ``D_min/D``, weight, served and present flags and ``t/T``
(``C = J + 6``).  Receivers have no spatial order, so the "CNN" of the paper (Table I) is a
stack of kernel-1 convolutions along the receiver axis [C] (one shared filter bank applied to
every receiver: permutation-equivariant), followed by pooling where a scalar is needed.

* :class:`Actor` (eqs. 39-41): ``CNN(s) -> (mu, sigma)`` per receiver column, i.e. a Gaussian
  proto-action in the binary link-activation embedding ``R^{J x K}``; ``mu`` is squashed into
  ``[0, 1]`` (the embedding's range); ``sigma`` in ``[sigma_min, sigma_max]``.
* :class:`ContextEncoder`: LSTM over the last ``L`` transitions ``(s, a, r)`` of the stream
  -> task embedding ``z`` (task identification; the task itself is not observed).
* :class:`Critic` (eqs. 36-38, the hybrid network "HNN"): ``CNN(s, a)`` (the action's column
  ``a[:, k]`` is appended to receiver ``k``'s features) -> mean and max pooling, concatenated
  with ``z`` -> 2-layer MLP -> ``Q(s, a, z)``.  With ``context_dim = 0`` it is a plain
  ``Q(s, a)`` critic (AC-DDPG, AC-MAML).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

__all__ = ["image_channels", "receiver_image", "Actor", "Critic", "ContextEncoder", "CriticMirror"]


def image_channels(obs_dim: int, J: int, K: int) -> int:  # noqa: N803
    """Channels of the receiver image of an observation of size ``obs_dim``.

    ``J K + 5 K + 1`` (the paper's observation) -> ``J + 6``; ``2 J K + 8 K + 1`` (the env's
    ``observation="rates"``: each link's rate alone and three demand amounts per receiver
    appended) -> ``2 J + 9``.
    """
    base = J * K + 5 * K + 1
    if obs_dim == base:
        return J + 6
    if obs_dim == base + J * K + 3 * K:
        return 2 * J + 9
    raise ValueError(f"obs_dim = {obs_dim} fits neither observation form of J = {J}, K = {K}: "
                     f"allowed {base} (paper) or {base + J * K + 3 * K} (rates)")


def receiver_image(obs: torch.Tensor, J: int, K: int) -> torch.Tensor:  # noqa: N803
    """Observation batch (B, D) -> receiver image (B, C, K), C = :func:`image_channels`.

    Paper form: per receiver its ``J`` link levels, the 5 per-receiver entries and ``t / T``;
    ``rates`` form: then its ``J`` link rates and 3 demand amounts.
    """
    B, D = obs.shape  # noqa: N806
    base = J * K + 5 * K + 1
    lv = obs[:, : J * K].reshape(B, J, K)
    per = obs[:, J * K : J * K + 5 * K].reshape(B, 5, K)
    t = obs[:, base - 1 : base].unsqueeze(-1).expand(B, 1, K)
    parts = [lv, per, t]
    if D != base:
        image_channels(D, J, K)  # validates the size
        parts += [obs[:, base : base + J * K].reshape(B, J, K),
                  obs[:, base + J * K :].reshape(B, 3, K)]
    return torch.cat(parts, dim=1)


def _pointwise(c_in: int, widths: tuple[int, ...]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for w in widths:
        layers += [nn.Conv1d(c_in, w, 1), nn.ReLU()]
        c_in = w
    return nn.Sequential(*layers)


class Actor(nn.Module):
    """Gaussian actor over the link-activation embedding (module docstring).

    Parameters
    ----------
    J, K : int
        Transmitters and receivers.
    conv : tuple of int
        Filters of the pointwise convolution layers.
    sigma_min, sigma_max : float
        Range of the standard deviation.
    obs_dim : int or None
        Observation size (None: the paper's ``J K + 5 K + 1``); sets the image channels.
    """

    def __init__(self, J: int, K: int, conv: tuple[int, ...] = (32, 64),  # noqa: N803
                 sigma_min: float = 0.02, sigma_max: float = 0.5, obs_dim: int | None = None) -> None:
        super().__init__()
        self.J, self.K = J, K
        self.enc = _pointwise(image_channels(obs_dim or J * K + 5 * K + 1, J, K), conv)
        self.head = nn.Sequential(nn.Conv1d(2 * conv[-1], conv[-1], 1), nn.ReLU(),
                                  nn.Conv1d(conv[-1], 2 * J, 1))
        self.sigma_min, self.sigma_max = sigma_min, sigma_max

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and standard deviation of the proto-action, each (B, J, K)."""
        h = self.enc(receiver_image(obs, self.J, self.K))
        g = h.mean(dim=2, keepdim=True).expand_as(h)
        out = self.head(torch.cat([h, g], dim=1))
        mu = torch.sigmoid(out[:, : self.J])
        sigma = self.sigma_min + (self.sigma_max - self.sigma_min) * torch.sigmoid(out[:, self.J :])
        return mu, sigma


class ContextEncoder(nn.Module):
    """LSTM task embedding of the recent transitions (module docstring).

    Parameters
    ----------
    d_in : int
        Size of one transition's feature vector (obs, action embedding, reward).
    hidden : int
        LSTM hidden size (= the embedding size).
    """

    def __init__(self, d_in: int, hidden: int = 64) -> None:
        super().__init__()
        self.lstm = nn.LSTM(d_in, hidden, batch_first=True)
        self.hidden = hidden

    def forward(self, seq: torch.Tensor) -> torch.Tensor:
        """Hidden state after every element, (B, L, hidden)."""
        out, _ = self.lstm(seq)
        return out


class Critic(nn.Module):
    """Hybrid critic ``Q(s, a, z)`` (module docstring).

    Parameters
    ----------
    J, K : int
        Transmitters and receivers.
    context_dim : int
        Size of the task embedding ``z`` (0: no context).
    conv : tuple of int
        Filters of the pointwise convolution layers.
    hidden : int
        Width of the two MLP layers.
    obs_dim : int or None
        Observation size (None: the paper's ``J K + 5 K + 1``); sets the image channels.
    """

    def __init__(self, J: int, K: int, context_dim: int = 64,  # noqa: N803
                 conv: tuple[int, ...] = (32, 64), hidden: int = 128, obs_dim: int | None = None) -> None:
        super().__init__()
        self.J, self.K, self.context_dim = J, K, context_dim
        self.enc = _pointwise(image_channels(obs_dim or J * K + 5 * K + 1, J, K) + J, conv)
        self.mlp = nn.Sequential(nn.Linear(2 * conv[-1] + context_dim, hidden), nn.ReLU(),
                                 nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, obs: torch.Tensor, act: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        """Q values (B,) of observations (B, D), actions (B, J, K) and contexts (B, context_dim)."""
        x = torch.cat([receiver_image(obs, self.J, self.K), act], dim=1)
        h = self.enc(x)
        feats = [h.mean(dim=2), h.amax(dim=2)]
        if self.context_dim:
            if z is None:
                raise ValueError("this critic needs a context z")
            feats.append(z)
        return self.mlp(torch.cat(feats, dim=1)).squeeze(-1)


def _numpy_image(obs: np.ndarray, J: int, K: int) -> np.ndarray:  # noqa: N803
    """:func:`receiver_image` of one observation (D,) in numpy, (C, K) float32."""
    base = J * K + 5 * K + 1
    o = np.asarray(obs, dtype=np.float32)
    parts = [o[: J * K].reshape(J, K), o[J * K : J * K + 5 * K].reshape(5, K),
             np.broadcast_to(o[base - 1 : base], (1, K))]
    if o.shape[0] != base:
        parts += [o[base : base + J * K].reshape(J, K), o[base + J * K :].reshape(3, K)]
    return np.concatenate(parts, axis=0)


class CriticMirror:
    """Numpy float32 copy of a :class:`Critic` for scoring the ``k`` Wolpertinger candidates.

    At ``k50`` the torch forward of the critic on the ``k`` candidates costs ~0.2-0.6 ms per
    slot, nearly all of it per-operation overhead on tiny tensors; the same arithmetic in numpy
    takes a fraction of it (every matrix product here stays below OpenBLAS's threading
    threshold, so it runs on one thread).  The results agree with torch to float32 rounding, not
    bit for bit, so :meth:`agents.linkgroup.learner.Learner.choose` uses the mirror only to
    *screen*: when its best candidate leads the runner-up by a margin far above that rounding,
    the decision is the torch argmax's; otherwise torch decides.  The task embedding ``z``
    comes from the torch :class:`ContextEncoder` (one fused LSTM call).

    Parameters
    ----------
    critic : Critic
    """

    def __init__(self, critic: Critic) -> None:
        def f(t: torch.Tensor | None) -> np.ndarray:
            if t is None:
                raise ValueError("CriticMirror needs layers with biases")
            return t.detach().cpu().numpy().astype(np.float32).copy()

        self.J, self.K, self.context_dim = critic.J, critic.K, critic.context_dim
        self.convs = [(f(m.weight[:, :, 0]), f(m.bias)[:, None]) for m in critic.enc if isinstance(m, nn.Conv1d)]
        self.mlp = [(f(m.weight).T.copy(), f(m.bias)) for m in critic.mlp if isinstance(m, nn.Linear)]

    def q(self, obs: np.ndarray, acts: np.ndarray, z: np.ndarray | None = None) -> np.ndarray:
        """Q values (n,) of one observation (D,) with actions (n, J, K) and context ``z`` (context_dim,)."""
        img = _numpy_image(obs, self.J, self.K)
        a = np.asarray(acts, dtype=np.float32)
        x = np.concatenate([np.broadcast_to(img, (a.shape[0], *img.shape)), a], axis=1)
        for w, b in self.convs:
            x = np.maximum(np.matmul(w, x) + b, 0.0)
        feats = [x.mean(axis=2), x.max(axis=2)]
        if self.context_dim:
            if z is None:
                raise ValueError("this critic needs a context z")
            zz = np.asarray(z, np.float32).reshape(-1)
            feats.append(np.broadcast_to(zz, (a.shape[0], zz.shape[0])))
        y = np.concatenate(feats, axis=1)
        for i, (w, b) in enumerate(self.mlp):
            y = y @ w + b
            if i < len(self.mlp) - 1:
                y = np.maximum(y, 0.0)
        return y[:, 0]
