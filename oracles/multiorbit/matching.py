"""User-association (UA) and subcarrier (BA) matching games of JUBPA (Alg. 3), on a fixed subset.

A :class:`GameState` holds one configuration of a fixed satellite subset ``A``: the subcarrier
owners (equal contiguous split), each UE's satellite and subcarrier, and a power budget per
subcarrier.  Moves are valued with the *subcarrier rule*: on subcarrier ``f`` with UE set ``X``
and budget ``P_f``, every UE but one sits exactly at its minimum rate and the best "winner"
takes the rest (the exact-rate optimum for that ``P_f``, see :mod:`oracles.multiorbit.power`);
``R_f(X)`` is the resulting sum rate, ``-inf`` when ``X`` fails the positivity test or needs more
than ``P_f``.  The game value is ``sum_f R_f / 1e6 - penalty * (unserved UEs)`` [Mbit/s].

* **UA game** (paper (36)-(45)): each UE estimates, for every other satellite ``s`` in its cone,
  the rate it would get on each subcarrier of ``s`` with its current power and that
  subcarrier's current interference (36); its preference for ``s`` is the mean increment over
  the subcarriers that beat its current rate (37)-(38).  Per pass only a quota ``Q`` of the UEs
  with the largest positive preference propose (41)-(42), each UE at most ``L_ch`` times per
  game.  A satellite ranks its proposers by ``kappa A_{u,f} - pi p_u`` (44)-(45) (``A`` the
  advantage ``p_u / Gamma_u - n_u``, powers in units of ``P_max``) and accepts, in that order,
  each proposal on its best subcarrier if the move keeps every constraint and raises the game
  value (a rejected UE proposes to its next satellite in a later pass).
* **BA game** (paper (50)-(53)): a UE moves from ``f`` to the subcarrier ``f'`` of its satellite
  that maximises ``Psi = [R_f(X_f - u) - R_f(X_f)] + [R_f'(X_f' + u) - R_f'(X_f')]`` when
  ``Psi > 0`` and the satellite's minimum-rate powers still fit in ``P_max``.

Each accepted move strictly raises the game value, so every pass (a "matching round") is
non-decreasing and both games terminate.  The per-pass values are recorded in ``history``.
"""

from __future__ import annotations

import math

import numpy as np

from leo_env.core.cochannel import CochannelInstance
from oracles.multiorbit.solution import equal_split

__all__ = ["GameState", "ua_game", "ba_game"]

_TOL = 1e-9


class GameState:
    """A configuration of a fixed subset, with cached per-subcarrier rule values."""

    def __init__(
        self, inst: CochannelInstance, selected: np.ndarray | list[int] | tuple[int, ...]
    ) -> None:
        self.inst = inst
        self.selected = np.sort(np.asarray(selected, dtype=np.intp))
        if self.selected.size > min(inst.n_max, inst.n_sub):
            raise ValueError(
                f"selected holds {self.selected.size} satellites > min(n_max, F) = "
                f"{min(inst.n_max, inst.n_sub)}"
            )
        self.owner = equal_split(self.selected, inst.n_sub)
        self.subs_of = {int(s): np.flatnonzero(self.owner == s) for s in self.selected}
        u_n, f_n = inst.n_ues, inst.n_sub
        self.assoc = np.full(u_n, -1, dtype=np.intp)
        self.subc = np.full(u_n, -1, dtype=np.intp)
        self.members: list[list[int]] = [[] for _ in range(f_n)]
        self.budget = np.empty(f_n)
        for s, fs in self.subs_of.items():
            del s
            self.budget[fs] = inst.p_max_w / fs.size
        gam = inst.gamma_min
        self.gam = gam
        self.a = gam / (1.0 + gam)
        self.log1g = np.log2(1.0 + gam)
        self.value_f = np.zeros(f_n)  # rule sum rate per subcarrier [bit/s]
        self.pmin_f = np.zeros(f_n)
        self.power = np.zeros(u_n)
        self.rate = np.zeros(u_n)
        self.visible = inst.visible
        # plain-Python copies for sub_value: n_{s,u,f} = N0 B / g_{s,u,f} by [s][f][u]
        n_sfu = inst.noise_w / np.transpose(inst.gain, (0, 2, 1))
        self._n = {int(s): n_sfu[s].tolist() for s in self.selected}
        self._owner = self.owner.tolist()
        self._a = self.a.tolist()
        self._l1g = self.log1g.tolist()

    # ------------------------------------------------------------------ subcarrier rule
    def sub_value(self, f: int, ues: list[int], budget: float | None = None) -> tuple[float, float]:
        """Rule value [bit/s] and ``P_min`` [W] of the UE list ``ues`` on subcarrier ``f``.

        The same numbers as :meth:`sub_eval` without the powers, in plain Python (the lists are
        short and this is the games' inner loop).
        """
        if not ues:
            return 0.0, 0.0
        p_f = float(self.budget[f]) if budget is None else budget
        n = self._n[self._owner[f]][f]
        a, l1g = self._a, self._l1g
        a_sum = an = 0.0
        for u in ues:
            a_sum += a[u]
            an += a[u] * n[u]
        if a_sum >= 1.0 - 1e-12:
            return -math.inf, math.inf
        p_min = an / (1.0 - a_sum)
        if p_min > p_f * (1.0 + 1e-12):
            return -math.inf, p_min
        if not math.isfinite(p_f):
            return 0.0, p_min
        total = an + a_sum * p_f
        base = 0.0
        best = -math.inf
        for u in ues:
            nu = n[u]
            p_w = p_f - (total - a[u] * (nu + p_f))
            r = math.log2(1.0 + max(p_w, 0.0) / max(nu + p_f - p_w, 1e-300)) - l1g[u]
            base += l1g[u]
            if r > best:
                best = r
        return self.inst.bandwidth_hz * (base + best), p_min

    def sub_eval(
        self, f: int, ues: list[int], budget: float | None = None
    ) -> tuple[float, float, np.ndarray, np.ndarray]:
        """Rule value of the UE list ``ues`` on subcarrier ``f``.

        Returns (sum rate [bit/s], P_min [W], powers [W], rates [bit/s]); value ``-inf`` if unsolvable or over budget.
        """
        if not ues:
            return 0.0, 0.0, np.empty(0), np.empty(0)
        inst = self.inst
        p_f = self.budget[f] if budget is None else budget
        idx = np.asarray(ues, dtype=np.intp)
        s = self.owner[f]
        n = inst.noise_w / inst.gain[s, idx, f]
        a = self.a[idx]
        a_sum = a.sum()
        if a_sum >= 1.0 - 1e-12:
            return -math.inf, math.inf, np.empty(0), np.empty(0)
        p_min = float((a * n).sum() / (1.0 - a_sum))
        if p_min > p_f * (1.0 + 1e-12):
            return -math.inf, p_min, np.empty(0), np.empty(0)
        if not math.isfinite(p_f):  # solvability check only (no budget)
            return 0.0, p_min, np.empty(0), np.empty(0)
        base = a * (n + p_f)
        total = base.sum()
        p_w = p_f - (total - base)
        r_w = np.log2(1.0 + np.maximum(p_w, 0.0) / np.maximum(n + p_f - p_w, 1e-300))
        score = r_w - self.log1g[idx]
        w = int(np.argmax(score))
        power = base.copy()
        power[w] = p_w[w]
        rates = self.log1g[idx].copy()
        rates[w] = r_w[w]
        b = inst.bandwidth_hz
        return float(b * rates.sum()), p_min, power, b * rates

    def refresh(self, f: int) -> None:
        """Recompute the cached rule value, powers and rates of subcarrier ``f``."""
        val, p_min, power, rates = self.sub_eval(f, self.members[f])
        self.value_f[f] = val
        self.pmin_f[f] = p_min
        if self.members[f]:
            idx = np.asarray(self.members[f], dtype=np.intp)
            if math.isfinite(val):
                self.power[idx] = power
                self.rate[idx] = rates
            else:
                self.power[idx] = 0.0
                self.rate[idx] = 0.0

    def refresh_all(self) -> None:
        """Recompute every subcarrier."""
        for f in range(self.inst.n_sub):
            self.refresh(f)

    def value(self) -> float:
        """Game value ``sum_f R_f / 1e6 - penalty * unserved`` [Mbit/s]."""
        unserved = int(np.count_nonzero(self.assoc < 0))
        return float(self.value_f.sum()) / 1e6 - self.inst.penalty_mbps * unserved

    def sat_pmin(self, s: int) -> float:
        """Sum of the minimum-rate powers of satellite ``s``'s subcarriers [W]."""
        return float(self.pmin_f[self.subs_of[s]].sum())

    # ------------------------------------------------------------------ moves
    def place(self, u: int, s: int, f: int) -> None:
        """Put UE ``u`` on ``(s, f)`` (remove it from its current place first)."""
        self.remove(u)
        self.assoc[u], self.subc[u] = s, f
        self.members[f].append(u)
        self.refresh(f)

    def remove(self, u: int) -> None:
        """Make UE ``u`` unserved."""
        f = int(self.subc[u])
        if f >= 0:
            self.members[f].remove(u)
            self.assoc[u] = self.subc[u] = -1
            self.power[u] = self.rate[u] = 0.0
            self.refresh(f)

    def move_delta(self, u: int, s: int, f: int) -> float:
        """Change of the game value [Mbit/s] if UE ``u`` moved to ``(s, f)``.

        ``-inf`` if the move breaks the positivity test, a subcarrier budget or satellite ``s``'s ``P_max``.
        """
        f_old = int(self.subc[u])
        if f_old == f:
            return 0.0
        new_ues = [*self.members[f], u]
        v_new, pmin_new = self.sub_value(f, new_ues)
        if not math.isfinite(v_new):
            return -math.inf
        sat_min = self.sat_pmin(s) - self.pmin_f[f] + pmin_new
        if f_old >= 0 and int(self.assoc[u]) == s:
            rest = [v for v in self.members[f_old] if v != u]
            v_old_new, pmin_old_new = self.sub_value(f_old, rest)
            sat_min += pmin_old_new - self.pmin_f[f_old]
        if sat_min > self.inst.p_max_w * (1.0 + 1e-12):
            return -math.inf
        delta = v_new - self.value_f[f]
        if f_old >= 0:
            if int(self.assoc[u]) != s:
                rest = [v for v in self.members[f_old] if v != u]
                v_old_new, _ = self.sub_value(f_old, rest)
            delta += v_old_new - self.value_f[f_old]
            return delta / 1e6
        return delta / 1e6 + self.inst.penalty_mbps

    def set_budgets(self, sub_power_w: np.ndarray) -> None:
        """Game budgets from a PA result.

        The PA's power on used subcarriers, an equal share of
        ``P_max`` on unused ones.
        """
        for fs in self.subs_of.values():
            share = self.inst.p_max_w / fs.size
            for f in fs:
                self.budget[f] = sub_power_w[f] if self.members[f] else share
        self.refresh_all()

    # ------------------------------------------------------------------ initialisations
    def init_greedy(self, sat_of: np.ndarray | None = None) -> None:
        """Feasible start (paper (25)-(31)).

        UEs in decreasing ``R_min / gain`` order take the
        highest-gain (satellite, subcarrier) pair that stays solvable within ``P_max``.  With
        ``sat_of`` (candidate per UE, -1: none) each UE only considers its given satellite.
        """
        inst = self.inst
        cand = np.zeros((inst.n_ues, inst.n_sub))
        own = self.owner
        g = inst.gain[own, :, np.arange(inst.n_sub)].T  # (U, F): gain via the owner
        ok = self.visible[own, :].T
        if sat_of is not None:
            ok = ok & (np.asarray(sat_of)[:, None] == own[None, :])
        cand = np.where(ok, g, 0.0)
        best = cand.max(axis=1)
        order = np.argsort(-(inst.r_min_bps / np.maximum(best, 1e-300)), kind="stable")
        for u in order:
            if best[u] <= 0:
                continue
            for f in np.argsort(-cand[u], kind="stable"):
                if cand[u, f] <= 0:
                    break
                s = int(own[f])
                new_ues = [*self.members[f], int(u)]
                v, pmin_new = self.sub_value(f, new_ues, budget=math.inf)
                if not math.isfinite(v):
                    continue
                if self.sat_pmin(s) - self.pmin_f[f] + pmin_new > inst.p_max_w * (1 + 1e-12):
                    continue
                self.assoc[u], self.subc[u] = s, f
                self.members[f].append(int(u))
                self.pmin_f[f] = pmin_new
                break

    def init_fixed(self) -> None:
        """Static assignment (Fixed-UA + Fixed-BA ablation).

        Each UE to the visible selected
        satellite with the largest mean gain, subcarriers of a satellite round-robin in UE
        order; UEs that would break solvability or ``P_max`` stay unserved.
        """
        inst = self.inst
        sel = self.selected
        mean_g = inst.gain[sel].mean(axis=2)
        mean_g = np.where(self.visible[sel], mean_g, -1.0)
        choice = np.argmax(mean_g, axis=0)
        counter = dict.fromkeys(self.subs_of, 0)
        for u in range(inst.n_ues):
            if mean_g[choice[u], u] < 0:
                continue
            s = int(sel[choice[u]])
            fs = self.subs_of[s]
            f = int(fs[counter[s] % fs.size])
            counter[s] += 1
            new_ues = [*self.members[f], u]
            v, pmin_new = self.sub_value(f, new_ues, budget=math.inf)
            if not math.isfinite(v) or (
                self.sat_pmin(s) - self.pmin_f[f] + pmin_new > inst.p_max_w * (1 + 1e-12)
            ):
                continue
            self.assoc[u], self.subc[u] = s, f
            self.members[f].append(u)
            self.pmin_f[f] = pmin_new

    def fixed_ba(self, sat_of: np.ndarray) -> None:
        """Round-robin subcarriers for a given association (Fixed-BA ablation)."""
        for u in range(self.inst.n_ues):
            self.remove(u)
        counter = dict.fromkeys(self.subs_of, 0)
        for u in range(self.inst.n_ues):
            s = int(sat_of[u])
            if s < 0:
                continue
            fs = self.subs_of[s]
            f = int(fs[counter[s] % fs.size])
            counter[s] += 1
            if math.isfinite(self.move_delta(u, s, f)):
                self.place(u, s, f)


def ua_game(
    st: GameState,
    *,
    quota: int | None = None,
    max_changes: int = 3,
    kappa: float = 1.0,
    pi: float = 0.1,
    max_passes: int = 100,
) -> list[float]:
    """Run the UA matching game to its end; returns the game value after every pass [Mbit/s]."""
    inst = st.inst
    q = max(1, math.ceil(inst.n_ues / 5)) if quota is None else int(quota)
    changes = np.zeros(inst.n_ues, dtype=np.intp)
    sel = st.selected
    refused = np.zeros((inst.n_ues, sel.size), dtype=bool)
    col = {int(x): k for k, x in enumerate(sel)}
    ind = (st.owner[:, None] == sel[None, :]).astype(float)  # (F, |A|) subcarrier ownership
    history = [st.value()]
    b = inst.bandwidth_hz
    med_power = inst.p_max_w / max(1, inst.n_ues)
    for _ in range(max_passes):
        # UE side (36)-(42): estimated rate on every (s, f) with current power/interference.
        sub_total = np.bincount(
            st.subc[st.assoc >= 0], weights=st.power[st.assoc >= 0], minlength=inst.n_sub
        )
        p_hat = np.where(st.assoc >= 0, st.power, med_power)
        g = inst.gain[st.owner, :, np.arange(inst.n_sub)].T  # (U, F)
        interf = sub_total[None, :] - np.where(
            st.subc[:, None] == np.arange(inst.n_sub)[None, :], p_hat[:, None], 0.0
        )
        r_est = b * np.log2(1.0 + p_hat[:, None] * g / (inst.noise_w + g * interf))
        cur = np.where(st.assoc >= 0, st.rate, 0.0)
        gain_sf = r_est - cur[:, None]
        # preference (38): mean of the positive increments over each satellite's subcarriers
        pos = gain_sf > 0
        pref = (np.where(pos, gain_sf, 0.0) @ ind) / np.maximum(pos @ ind, 1)  # (U, |A|)
        unserved = st.assoc < 0
        pref[unserved] = np.where(pref[unserved] > 0, pref[unserved], 1e-3)  # wants service
        allowed = st.visible[sel].T & ~refused & (st.assoc[:, None] != sel[None, :])
        allowed &= (changes < max_changes)[:, None]
        pref = np.where(allowed, pref, 0.0)
        best_k = np.argmax(pref, axis=1)
        best_pref = pref[np.arange(inst.n_ues), best_k]
        proposals = [
            (float(best_pref[u]), int(u), int(sel[best_k[u]]))
            for u in np.flatnonzero(best_pref > 0)
        ]
        if not proposals:
            break
        proposals.sort(key=lambda x: (-x[0], x[1]))
        proposals = proposals[:q]
        # Satellite side (44)-(45): rank proposers, accept improving feasible moves.
        accepted = 0
        for s in sorted({p[2] for p in proposals}):
            mine = [p for p in proposals if p[2] == s]
            fs = st.subs_of[s]
            ranked = []
            for _, u, _ in mine:
                f_best = int(fs[np.argmax(r_est[u, fs])])
                adv = p_hat[u] / max(st.gam[u], 1e-12) - inst.noise_w / inst.gain[s, u, f_best]
                phi = kappa * adv / inst.p_max_w - pi * p_hat[u] / inst.p_max_w
                ranked.append((-phi, u))
            for _, u in sorted(ranked):
                deltas = np.array([st.move_delta(u, s, int(f)) for f in fs])
                k = int(np.argmax(deltas))
                if deltas[k] > _TOL:
                    st.place(u, s, int(fs[k]))
                    changes[u] += 1
                    accepted += 1
                else:
                    refused[u, col[s]] = True
        history.append(st.value())
    return history


def ba_game(st: GameState, *, max_passes: int = 100) -> list[float]:
    """Run the BA matching game to its end; returns the game value after every pass [Mbit/s]."""
    inst = st.inst
    history = [st.value()]
    for _ in range(max_passes):
        moved = 0
        for u in range(inst.n_ues):
            s = int(st.assoc[u])
            if s < 0:
                continue
            f = int(st.subc[u])
            best, best_f = _TOL, -1
            for f2 in st.subs_of[s].tolist():
                if f2 == f:
                    continue
                d = st.move_delta(u, s, f2)
                if d > best:
                    best, best_f = d, f2
            if best_f >= 0:
                st.place(u, s, best_f)
                moved += 1
        history.append(st.value())
        if not moved:
            break
    return history
