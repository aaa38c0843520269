"""Meta-training, BC warm start, online adaptation and checkpoints of the link-group learners.

* :func:`train` — the pipeline entry (``python train.py --config
  configs/experiments/linkgroup_*.yaml``): optional behaviour-cloning warm start from hindsight
  OPT (:func:`bc_warm_start`), then meta-training over ``n_tasks`` sampled tasks
  (``leo_env.scenario.linkgroup.sample_tasks``; the training cells cycle over
  ``evaluate.layout_seeds``):

  - ``emcl`` / ``emcl-nowolp`` (Alg. 2, meta-training phase): every meta-episode samples ``M``
    tasks; for every task one deadline window is played with that task's actor ``theta_m``
    (exploring), every slot stores ``(s, a, r, s', tau)`` in the shared memory and takes one
    step of the meta critic (minibatch over all tasks), one of ``theta_m`` (its task's
    transitions) and one of the generalist actor ``theta_0`` (all tasks) that starts the online
    phase;
  - ``ac-maml``: every meta-iteration plays ``maml_windows`` windows per sampled task with the
    current initial weights, then one MAML step: an inner gradient step per task on a support
    minibatch (actor and critic), the outer loss on a query minibatch of the same task at the
    adapted weights, differentiated through the inner step (second order, ``torch.func``);
  - ``ac-ddpg``: nothing to meta-train (it starts from scratch online).

  Checkpoints (every ``checkpoint_every`` meta-episodes, atomically, SHA-256 recorded) hold
  weights, optimisers, the memory, the per-task contexts and every random state, so a resumed
  run continues exactly as an uninterrupted one.
* :func:`run_stream` — the online phase on a task stream (Figs. 4/7): every slot acts
  (exploring) and learns: ``emcl*`` train only the actor (meta critic frozen); ``ac-maml``
  returns to its meta-learned weights at every change, ``ac-ddpg`` to fresh random weights, and
  both train actor and critic.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import time
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np
import torch

from agents.linkgroup.config import LinkGroupRunConfig
from agents.linkgroup.learner import Learner, bc_loss, embed
from agents.linkgroup.networks import Actor
from leo_env.envs.linkgroup.env import LinkGroupSchedEnv
from leo_env.io import atomic_write_json
from leo_env.scenario import linkgroup as lg

__all__ = ["make_env", "new_learner", "play_window", "bc_warm_start", "dagger_warm_start", "train", "load_learner",
           "run_stream", "window_seed"]

CKPT = "checkpoint.pt"
MEMORY = "memory.npz"
STATE = "state.json"


def window_seed(*parts: int) -> int:
    """A reset seed derived from integers (stable across runs)."""
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1)[0])


def make_env(cfg: LinkGroupRunConfig, layout_seed: int | None = None) -> LinkGroupSchedEnv:
    """A ``links``-mode env of the configured cell."""
    e = cfg.env
    return LinkGroupSchedEnv(preset=e.preset, mode="links", served=e.served, data=e.data,
                             layout_seed=e.layout_seed if layout_seed is None else layout_seed,
                             observation=e.observation)


def new_learner(cfg: LinkGroupRunConfig, env: LinkGroupSchedEnv, seed: int | None = None) -> Learner:
    """A fresh learner sized for ``env``."""
    return Learner(cfg.algo, env.cfg.J, env.cfg.K, env.observation_space.shape[0], copy.deepcopy(cfg.agent),
                   cfg.train.seed if seed is None else seed)


def play_window(learner: Learner, env: LinkGroupSchedEnv, seed: int | None, explore: bool,
                on_step: Any = None, task: int = 0, times: list[float] | None = None) -> float:
    """Play one deadline window; returns its final objective ``F``."""
    obs, info = env.reset(seed=seed)
    while True:
        t0 = time.perf_counter()
        a = learner.act(obs, env, explore)
        if times is not None:
            times.append(time.perf_counter() - t0)
        obs2, r, term, _, info = env.step(env.unwrapped.encode(a))
        learner.observe(obs, a, r, obs2, term, task)
        if on_step is not None:
            on_step()
        obs = obs2
        if term:
            return float(info["objective"])


# ----- behaviour cloning from hindsight OPT ----------------------------------------------------
def bc_warm_start(learner: Learner, envs: list[LinkGroupSchedEnv], n_windows: int, steps: int,
                  epsilon: float, seed: int, actors: list[Actor] | None = None,
                  progress: bool = False) -> dict[str, float]:
    """Warm start actor(s) and critic from hindsight-OPT schedules on the training tasks.

    Windows are drawn from the training envs in turn and solved by OPT; the window is then
    played following OPT's group, except that with probability ``epsilon`` a random one of the
    ``k`` valid groups nearest to OPT's is played instead (so the critic sees alternatives).
    Every slot's (state, OPT's group embedding) pair is a BC sample; every transition enters the
    replay memory with the candidate set nearest to OPT's next group.  Then ``steps`` gradient
    steps: the generalist actor's mean is fitted to OPT's embedding (binary cross-entropy per
    link), the critic takes TD steps; the per-task actors (``actors``) start from the result.
    """
    from oracles.linkgroup.opt import solve_opt

    rng = np.random.default_rng(window_seed(seed, 77))
    xs, ys = [], []
    for w in range(n_windows):
        m = w % len(envs)
        env = envs[m]
        obs, _ = env.reset(seed=window_seed(seed, 88, w))
        plan = solve_opt(env.instance, env.spec_obj, threads=1).links
        learner.recent.clear()
        from agents.linkgroup.wolpertinger import NearestGroups

        near = NearestGroups(env)
        cands = near(embed(plan[0], learner.K), learner.k)[0]
        while True:
            t = env.t
            xs.append(obs)
            ys.append(embed(plan[t], learner.K))
            a = plan[t] if (rng.random() >= epsilon or len(cands) == 1) else cands[rng.integers(len(cands))]
            obs2, r, term, _, _ = env.step(env.encode(a))
            learner.observe(obs, a, r, obs2, term, m)
            if not term:
                cands = near(embed(plan[env.t], learner.K), learner.k)[0]
                if not any((c == plan[env.t]).all() for c in cands):
                    cands = np.vstack([plan[env.t][None], cands[:-1]]) if len(cands) else plan[env.t][None]
                learner.memory.add(*learner._pending[:6], cands, m)
                learner.drop_pending()
            obs = obs2
            if term:
                break
        if progress and (w + 1) % 20 == 0:
            print(f"  bc: {w + 1}/{n_windows} OPT windows", flush=True)
    x = torch.as_tensor(np.asarray(xs, np.float32))
    y = torch.as_tensor(np.asarray(ys, np.float32))
    learner.bc_x, learner.bc_y = x, y
    last = _bc_fit(learner, x, y, steps, seed, progress)
    for a in actors or []:
        a.load_state_dict(learner.actor.state_dict())
    last["bc_samples"] = float(len(x))
    return last


def _bc_fit(learner: Learner, x: torch.Tensor, y: torch.Tensor, steps: int, seed: int,
            progress: bool) -> dict[str, float]:
    """``steps`` BC steps of the generalist actor's ``mu`` on (x, y), each with one critic TD step."""
    opt = torch.optim.Adam(learner.actor.parameters(), lr=learner.s.lr)
    gen = torch.Generator().manual_seed(seed)
    last: dict[str, float] = {}
    for s in range(steps):
        idx = torch.randint(0, len(x), (learner.s.batch_size,), generator=gen)
        mu, _ = learner.actor(x[idx])
        loss = bc_loss(mu, y[idx], learner.s.bc_loss)
        opt.zero_grad()
        loss.backward()
        opt.step()
        last["bc_loss"] = loss.item()
        b = learner._batch(learner.memory.sample(learner.rng, learner.s.batch_size))
        closs = learner.critic_loss(b)
        learner.critic_opt.zero_grad()
        closs.backward()
        learner.critic_opt.step()
        learner._soft_update()
        last["critic_loss"] = closs.item()
        if progress and (s + 1) % 500 == 0:
            print(f"  bc step {s + 1}/{steps}: bc loss {last['bc_loss']:.4f} critic {last['critic_loss']:.4f}",
                  flush=True)
    return last


def dagger_warm_start(learner: Learner, envs: list[LinkGroupSchedEnv], n_windows: int, steps: int,
                      epsilon: float, seed: int, rounds: int, round_windows: int, teacher_samples: int,
                      actors: list[Actor] | None = None, progress: bool = False) -> dict[str, float]:
    """BC + DAgger warm start from the causal rollout search (``RolloutPolicy``) as the teacher.

    Round 0 plays ``n_windows`` windows of the training tasks following the teacher (with
    probability ``epsilon`` a random one of the ``k`` valid groups nearest to the teacher's is
    played instead, so the critic sees alternatives); round ``r = 1..rounds`` plays
    ``round_windows`` windows where every slot is played by the student (its Wolpertinger
    choice, greedy) with probability ``1 - 0.5^r``, else as in round 0.  Every visited state is
    labelled with the teacher's group *at that state* (the teacher is causal, so it can label
    the student's states: the point of DAgger), every transition enters the replay memory with
    the candidate set nearest to the teacher's next group.  After round 0 ``steps`` fitting steps
    (:func:`_bc_fit`: actor ``mu`` to the labels by binary cross-entropy, critic TD), after every
    later round ``steps // 2`` on all labels so far.  The per-task actors start from the result.
    """
    from agents.linkgroup.wolpertinger import NearestGroups
    from leo_env.envs.linkgroup.policies import RolloutPolicy

    rng = np.random.default_rng(window_seed(seed, 77))
    teacher = RolloutPolicy(n_samples=teacher_samples, seed=window_seed(seed, 79))
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    last: dict[str, float] = {}
    w_all = 0
    t_teacher = 0.0
    for r in range(rounds + 1):
        p_student = 0.0 if r == 0 else 1.0 - 0.5**r
        for _ in range(n_windows if r == 0 else round_windows):
            m = w_all % len(envs)
            env = envs[m]
            obs, _ = env.reset(seed=window_seed(seed, 88, w_all))
            w_all += 1
            teacher.reset(env)
            learner.recent.clear()
            learner.drop_pending()
            near = NearestGroups(env)
            while True:
                t0 = time.perf_counter()
                g = teacher.group(env)
                t_teacher += time.perf_counter() - t0
                cands = near(embed(g, learner.K), learner.k)[0]
                if not any((c == g).all() for c in cands):
                    cands = np.vstack([g[None], cands[:-1]]) if len(cands) else g[None]
                pend = learner._pending
                if pend is not None:  # the previous transition's next candidates
                    o, e, rw, dn, o2, cx = pend[:6]
                    learner.memory.add(o, e, rw, dn, o2, cx, cands, m)
                    learner.drop_pending()
                xs.append(obs)
                ys.append(embed(g, learner.K))
                if rng.random() < p_student:
                    a = learner.choose(obs, learner.candidates(env, obs, False))
                elif rng.random() >= epsilon or len(cands) == 1:
                    a = g
                else:
                    a = cands[rng.integers(len(cands))]
                obs2, rew, term, _, _ = env.step(env.encode(a))
                learner.observe(obs, a, rew, obs2, term, m)
                obs = obs2
                if term:
                    break
        x = torch.as_tensor(np.asarray(xs, np.float32))
        y = torch.as_tensor(np.asarray(ys, np.float32))
        last = _bc_fit(learner, x, y, steps if r == 0 else steps // 2, window_seed(seed, 78, r), progress)
        if progress:
            print(f"  dagger round {r}/{rounds}: {len(xs)} labels, teacher {t_teacher:.0f} s, {last}", flush=True)
    learner.bc_x, learner.bc_y = x, y
    for act in actors or []:
        act.load_state_dict(learner.actor.state_dict())
    last["bc_samples"] = float(len(xs))
    last["teacher_s"] = t_teacher
    return last


# ----- AC-MAML ---------------------------------------------------------------------------------
def maml_step(learner: Learner, tasks: list[int], inner_lr: float, meta_opt: torch.optim.Optimizer) -> float:
    """One second-order MAML step of the initial actor and critic weights over ``tasks``."""
    pa = dict(learner.actor.named_parameters())
    pc = dict(learner.critic.named_parameters())
    total = 0.0
    meta_opt.zero_grad()
    for m in tasks:
        i_s = learner.memory.sample(learner.rng, learner.s.batch_size, m)
        i_q = learner.memory.sample(learner.rng, learner.s.batch_size, m)
        if i_s is None:
            continue
        bs, bq = learner._batch(i_s), learner._batch(i_q)
        lc = learner.critic_loss(bs, params=pc)
        gc = torch.autograd.grad(lc, list(pc.values()), create_graph=True)
        la = learner.actor_loss(bs, aparams=pa, cparams=pc)
        ga = torch.autograd.grad(la, list(pa.values()), create_graph=True)
        pc2 = {n: p - inner_lr * g for (n, p), g in zip(pc.items(), gc, strict=True)}
        pa2 = {n: p - inner_lr * g for (n, p), g in zip(pa.items(), ga, strict=True)}
        lq = learner.critic_loss(bq, params=pc2) + learner.actor_loss(
            bq, aparams=pa2, cparams={n: p.detach() for n, p in pc2.items()})
        (lq / len(tasks)).backward()
        total += lq.item()
    meta_opt.step()
    return total / max(len(tasks), 1)


# ----- checkpoints -----------------------------------------------------------------------------
def _save(run: Path, learner: Learner, actors: list[Actor], actor_opts: list[Any], meta_opt: Any,
          contexts: list[deque], state: dict[str, Any]) -> None:
    from agents.trust import record_digest

    st = {"learner": learner.state_dict(), "actors": [a.state_dict() for a in actors],
          "actor_opts": [o.state_dict() for o in actor_opts],
          "meta_opt": meta_opt.state_dict() if meta_opt is not None else {}}
    tmp = run / (CKPT + ".tmp")
    torch.save(st, tmp)
    record_digest(run, run / CKPT, digest=_sha(tmp), keep_previous=True)
    os.replace(tmp, run / CKPT)
    record_digest(run, run / CKPT)
    arrs = learner.memory.arrays()
    for i, c in enumerate(contexts):
        arrs[f"ctx_{i}"] = np.stack(c) if c else np.zeros((0, learner.tr_dim), np.float32)
    if learner.bc_x is not None:
        arrs["bc_x"], arrs["bc_y"] = learner.bc_x.numpy(), learner.bc_y.numpy()
    tmpm = run / "memory.tmp.npz"
    np.savez(tmpm, **arrs)
    record_digest(run, run / MEMORY, digest=_sha(tmpm), keep_previous=True)
    os.replace(tmpm, run / MEMORY)
    record_digest(run, run / MEMORY)
    state = dict(state)
    state["rng"] = learner.rng.bit_generator.state
    atomic_write_json(run / STATE, state)


def _sha(p: Path) -> str:
    from agents.trust import sha256_of

    return sha256_of(p)


def _load(run: Path, learner: Learner, actors: list[Actor], actor_opts: list[Any], meta_opt: Any,
          contexts: list[deque], trust: bool) -> dict[str, Any]:
    from agents.trust import verify_digest

    verify_digest(run / CKPT, run, trust)
    verify_digest(run / MEMORY, run, trust)
    st = torch.load(run / CKPT, weights_only=True)
    learner.load_state_dict(st["learner"])
    for a, s in zip(actors, st["actors"], strict=True):
        a.load_state_dict(s)
    for o, s in zip(actor_opts, st["actor_opts"], strict=True):
        o.load_state_dict(s)
    if meta_opt is not None and st["meta_opt"]:
        meta_opt.load_state_dict(st["meta_opt"])
    with np.load(run / MEMORY, allow_pickle=False) as z:
        arrs = {k: z[k] for k in z.files}
    learner.memory.load(arrs)
    if "bc_x" in arrs:
        learner.bc_x, learner.bc_y = torch.as_tensor(arrs["bc_x"]), torch.as_tensor(arrs["bc_y"])
    for i, c in enumerate(contexts):
        c.clear()
        c.extend(list(arrs[f"ctx_{i}"]))
    state = json.loads((run / STATE).read_text())
    learner.rng.bit_generator.state = state["rng"]
    return state


def load_learner(cfg: LinkGroupRunConfig, trust: bool = False) -> Learner:
    """The trained learner of a run folder (generalist actor, critic, context encoder).

    With ``agent.bc_online`` (and ``bc_weight > 0``) the BC samples of the warm start are loaded
    too (from the run's checksummed ``memory.npz``), so the online phase keeps the BC term.
    """
    from agents.trust import verify_digest

    run = cfg.run_path
    if not (run / CKPT).exists():
        raise FileNotFoundError(f"{run / CKPT} not found: train {cfg.name} first")
    verify_digest(run / CKPT, run, trust)
    env = make_env(cfg)
    learner = new_learner(cfg, env)
    learner.load_state_dict(torch.load(run / CKPT, weights_only=True)["learner"])
    if learner.knn_backend == "lazy":  # load the compiled k-NN now, not in the first timed decision
        from agents.linkgroup.wolpertinger import warm_up

        warm_up()
    if learner.s.bc_online and learner.s.bc_weight > 0 and (run / MEMORY).exists():
        verify_digest(run / MEMORY, run, trust)
        with np.load(run / MEMORY, allow_pickle=False) as z:
            if "bc_x" in z.files:  # the BC samples the online phase keeps imitating
                learner.bc_x, learner.bc_y = torch.as_tensor(z["bc_x"]), torch.as_tensor(z["bc_y"])
    return learner


# ----- training entry ----------------------------------------------------------------------------
def train(cfg: LinkGroupRunConfig, resume: bool | str | None = None, progress: bool | None = None,
          trust: bool = False) -> Path:
    """Train (or resume) the configured learner; returns the run folder (module docstring)."""
    from agents.provenance import provenance

    t, s = cfg.train, cfg.agent
    torch.set_num_threads(t.threads)
    run = cfg.run_path
    run.mkdir(parents=True, exist_ok=True)
    verbose = progress is not False
    layouts = cfg.evaluate.layout_seeds
    envs = [make_env(cfg, layouts[m % len(layouts)]) for m in range(t.n_tasks)]
    task_rng = np.random.default_rng(window_seed(t.seed, 1))
    for m, env in enumerate(envs):
        env.set_task(dataclasses.replace(lg.sample_tasks(env.cfg, task_rng, 1)[0], task_id=m))
    learner = new_learner(cfg, envs[0])
    per_task = cfg.algo in ("emcl", "emcl-nowolp")
    actors = [copy.deepcopy(learner.actor) for _ in range(t.n_tasks)] if per_task else []
    actor_opts = [torch.optim.Adam(a.parameters(), lr=s.lr) for a in actors]
    meta_opt = None
    if cfg.algo == "ac-maml":
        meta_opt = torch.optim.Adam(list(learner.actor.parameters()) + list(learner.critic.parameters()),
                                    lr=s.lr)
    contexts: list[deque] = [deque(maxlen=learner.L) for _ in range(t.n_tasks)]
    state: dict[str, Any] = {"episode": 0, "elapsed_s": 0.0, "bc_done": False, "log": []}
    if resume and (run / CKPT).exists():
        state = _load(run, learner, actors, actor_opts, meta_opt, contexts, trust)
        if verbose:
            print(f"resumed {run} at meta-episode {state['episode']}", flush=True)
    elif (run / CKPT).exists() and verbose:
        print(f"{run} has a checkpoint: starting over (pass resume to continue)", flush=True)
    from omegaconf import OmegaConf

    from leo_env.io import atomic_write_text

    atomic_write_text(run / "config.yaml", "family: linkgroup\n" + OmegaConf.to_yaml(cfg.to_dict()))
    atomic_write_json(run / "provenance.json", provenance())
    t_start = time.perf_counter() - state["elapsed_s"]

    def elapsed() -> float:
        return time.perf_counter() - t_start

    if t.bc_windows > 0 and not state["bc_done"] and cfg.algo != "ac-ddpg":
        if t.bc_teacher == "rollout":
            out = dagger_warm_start(learner, envs, t.bc_windows, t.bc_steps, t.bc_epsilon, t.seed, t.dagger_rounds,
                                    t.dagger_windows, t.teacher_samples, actors, progress=verbose)
        else:
            out = bc_warm_start(learner, envs, t.bc_windows, t.bc_steps, t.bc_epsilon, t.seed,
                                actors, progress=verbose)
        for o in actor_opts:
            o.state.clear()  # fresh moments after BC
        state["bc_done"] = True
        state["bc"] = out
        state["elapsed_s"] = elapsed()
        _save(run, learner, actors, actor_opts, meta_opt, contexts, state)
        if verbose:
            print(f"bc warm start done: {out}", flush=True)
    n_ep = t.meta_episodes if cfg.algo != "ac-ddpg" else 0
    while state["episode"] < n_ep:
        if t.max_seconds is not None and elapsed() >= t.max_seconds:
            if verbose:
                print(f"time budget {t.max_seconds} s reached at meta-episode {state['episode']}", flush=True)
            break
        ep = state["episode"]
        erng = np.random.default_rng(window_seed(t.seed, 2, ep))
        ms = [int(m) for m in erng.choice(t.n_tasks, t.tasks_per_episode, replace=False)]
        fs = []
        if per_task:
            for m in ms:
                learner.recent = contexts[m]
                learner.play_actor = actors[m]

                def step(m: int = m) -> None:
                    learner.update(actor=actors[m], actor_opt=actor_opts[m], task=m)
                    learner.update(train_critic=False)

                fs.append(play_window(learner, envs[m], window_seed(t.seed, 3, ep, m), True, step, m))
            learner.play_actor = None
        else:  # ac-maml
            for m in ms:
                learner.recent = contexts[m]
                for w in range(t.maml_windows):
                    fs.append(play_window(learner, envs[m], window_seed(t.seed, 3, ep, m, w), True, None, m))
            loss = maml_step(learner, ms, t.maml_inner_lr, meta_opt) if learner.memory.n >= s.warmup else float("nan")
            learner.target.load_state_dict(learner.critic.state_dict())
            state.setdefault("maml_loss", []).append(loss)
        state["episode"] = ep + 1
        state["log"].append({"episode": ep + 1, "mean_F": float(np.mean(fs)), "elapsed_s": elapsed()})
        if verbose:
            print(f"  meta-episode {ep + 1}/{n_ep}: mean F {np.mean(fs):.3f}  ({elapsed():.0f} s)", flush=True)
        if (ep + 1) % t.checkpoint_every == 0 or ep + 1 == n_ep:
            state["elapsed_s"] = elapsed()
            _save(run, learner, actors, actor_opts, meta_opt, contexts, state)
    state["elapsed_s"] = elapsed()
    _save(run, learner, actors, actor_opts, meta_opt, contexts, state)
    return run


# ----- online phase ----------------------------------------------------------------------------
def run_stream(learner: Learner, env: Any, n_slots: int, seed: int, reinit_seed: int = 0,
               learn: bool = True) -> dict[str, Any]:
    """Play ``n_slots`` of a task stream (``LinkGroupTaskStream``) with online learning.

    Returns the per-slot series (final ``F`` of the window a slot belongs to), the change
    slots, the decision time per slot and the number of updates.
    """
    algo = learner.algo
    init = copy.deepcopy(learner.state_dict()) if algo == "ac-maml" else None
    learner.online = True
    learner.memory.clear()
    learner.recent.clear()
    learner.drop_pending()
    T = env.unwrapped.cfg.T  # noqa: N806
    series: list[float] = []
    times: list[float] = []
    n_change = 0
    first = True
    while env.global_slot < n_slots:
        slot = env.global_slot
        stream = env.stream
        if not first and stream.is_change(slot):
            n_change += 1
            if algo == "ac-ddpg":
                learner.reinit(window_seed(reinit_seed, n_change))
                learner.online = True
            elif algo == "ac-maml":
                learner.load_state_dict(init)
                learner.memory.clear()
                learner.drop_pending()
        train_critic = algo in ("ac-ddpg", "ac-maml")

        def step(tc: bool = train_critic) -> None:
            if learn:
                learner.update(train_critic=tc)

        f = play_window(learner, env, seed if first else None, True, step, 0, times)
        first = False
        series.extend([f] * T)
    return {"series": np.asarray(series[:n_slots]), "decision_time_s": float(np.mean(times)),
            "updates": learner.updates}
