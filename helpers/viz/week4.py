"""Week 4 lectures: faces (verification vs recognition, eigenfaces, Siamese distances, triplet loss),
what deep ConvNets learn, neural style costs, and 1D/3D convolutions.

Pure functions carry the maths and are what tests/test_viz_week4.py checks; the widget classes
(``RecognitionRisk``, ``EigenfaceExplorer``, ``ThresholdExplorer``, ``TripletExplorer``,
``PatchExplorer``, ``StyleExplorer``, ``SignalFilter``) are thin ``ipywidgets.VBox`` wiring whose
controls are attributes. Nothing here downloads anything: faces are drawn (:func:`drawn_people`) or
the real portraits of :mod:`helpers.data.faces`; photos come from scikit-image, scikit-learn and
matplotlib. Names differ on purpose from the graded functions of the week-4 assignments.
"""

from __future__ import annotations

import html

import ipywidgets as widgets
import numpy as np

from helpers.conv import output_size
from helpers.data.identities import make_identities
from helpers.viz.render import figure_image as _figure_image
from helpers.viz.render import figure_to_png, new_figure
from helpers.viz.render import row as _row

# ---------------------------------------------------------------------------------------------
# 1. Verification (1:1) vs recognition (1:K)
# ---------------------------------------------------------------------------------------------


def false_match_probability(p: float, k: int) -> float:
    """Chance that a query matches at least one of ``k`` wrong people, each comparison falsely
    accepting with probability ``p`` independently: 1 - (1 - p)^k."""
    p = float(p)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be a probability in [0, 1], got {p}")
    if int(k) != k or k < 1:
        raise ValueError(f"k must be an integer >= 1, got {k!r}")
    return float(-np.expm1(int(k) * np.log1p(-p))) if p < 1 else 1.0


def per_comparison_rate_for(target: float, k: int) -> float:
    """The false-accept rate p one comparison may have so that 1:k recognition falsely matches with
    probability ``target``: p = 1 - (1 - target)^(1/k)."""
    if not 0.0 < target < 1.0:
        raise ValueError(f"target must be in (0, 1), got {target}")
    if int(k) != k or k < 1:
        raise ValueError(f"k must be an integer >= 1, got {k!r}")
    return float(-np.expm1(np.log1p(-target) / int(k)))


K_CHOICES = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 100_000, 1_000_000)
P_CHOICES = (0.1, 0.05, 0.01, 0.005, 0.001, 1e-4, 1e-5, 1e-6)


def recognition_risk_figure(p: float, k: int):
    """Curves 1 - (1 - p')^K over K for every p' in :data:`P_CHOICES`, the chosen p bold, K marked."""
    fig = new_figure(6.4, 3.3, dpi=85)
    ax = fig.subplots()
    ks = np.logspace(0, 6, 200)
    for q in P_CHOICES:
        ys = -np.expm1(ks * np.log1p(-q))
        chosen = np.isclose(q, p)
        ax.plot(ks, ys, lw=2.8 if chosen else 1, color="C3" if chosen else "0.7",
                label=f"p = {q:g}" if chosen else None, zorder=3 if chosen else 1)
    risk = false_match_probability(p, k)
    ax.plot([k], [risk], "o", color="C3", ms=9, zorder=4)
    ax.annotate(f"K = {k:,}: {risk:.1%}", (k, risk), textcoords="offset points",
                xytext=(8 if k < 1e4 else -110, -14 if risk > 0.5 else 8), fontsize=10)
    ax.set_xscale("log")
    ax.set_ylim(-0.02, 1.05)
    ax.set_xlabel("K (people in the database)")
    ax.set_ylabel("P(some false match)")
    ax.set_title("1:K recognition with a per-comparison false-accept rate p", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=9)
    return fig


class RecognitionRisk(widgets.VBox):
    """Sliders K (people in the database) and p (false-accept rate of one comparison); the chance
    that a stranger matches someone, 1 - (1 - p)^K, on a curve and in words."""

    def __init__(self, k: int = 100, p: float = 0.01):
        self.k = widgets.SelectionSlider(options=[(f"{v:,}", v) for v in K_CHOICES], value=k,
                                         description="people K", continuous_update=False,
                                         style={"description_width": "100px"})
        self.p = widgets.SelectionSlider(options=[(f"{v:g}", v) for v in P_CHOICES], value=p,
                                         description="false accept p", continuous_update=False,
                                         style={"description_width": "100px"})
        self.text = widgets.HTML()
        self.picture = _figure_image()
        for control in (self.k, self.p):
            control.observe(self._render, names="value")
        super().__init__([_row([self.k, self.p]), self.text, self.picture])
        self._render()

    def _render(self, _=None):
        k, p = self.k.value, self.p.value
        risk = false_match_probability(p, k)
        need = per_comparison_rate_for(0.01, k)
        self.text.value = (
            f"<div>1 &minus; (1 &minus; {p:g})<sup>{k:,}</sup> = <b>{risk:.2%}</b> chance that a "
            f"stranger is matched to someone (K p = {k * p:,.3g} false matches expected per query). "
            f"To keep it at 1% with K = {k:,}, one comparison may falsely accept only "
            f"p = {need:.2g}.</div>")
        self.picture.value = figure_to_png(recognition_risk_figure(p, k))


# ---------------------------------------------------------------------------------------------
# 2. Drawn people (for eigenfaces, Fisherfaces, SVM and the triplet network)
# ---------------------------------------------------------------------------------------------


def drawn_people(n_people: int, per_person: int, seed: int = 0, size: int = 32, gray: bool = True):
    """Photos of ``n_people`` drawn people, ``per_person`` each (:func:`helpers.data.identities.make_identities`:
    identity traits fixed per person, pose, lighting, expression and background redrawn for every photo).

    Returns (X, y): X (n_people * per_person, size, size) floats in [0, 1] if gray, else
    (..., size, size, 3) uint8; y (n,) int person index, photos of a person consecutive.
    """
    if int(n_people) != n_people or n_people < 2:
        raise ValueError(f"n_people must be an integer >= 2, got {n_people!r}")
    if int(per_person) != per_person or per_person < 1:
        raise ValueError(f"per_person must be an integer >= 1, got {per_person!r}")
    images, y = make_identities(int(n_people), int(per_person), int(seed), int(size))
    if gray:
        return images.astype(np.float32).mean(axis=-1) / 255.0, y
    return images, y


def faces_grid_figure(images, titles=None, columns: int = 8, scale: float = 0.9, cmap="gray"):
    """A grid of small images (m, H, W) or (m, H, W, 3) with optional titles."""
    images = np.asarray(images)
    m = len(images)
    columns = min(columns, m)
    rows = int(np.ceil(m / columns))
    fig = new_figure(columns * scale, rows * scale * (1.25 if titles is not None else 1.0), dpi=85)
    axes = np.atleast_1d(fig.subplots(rows, columns)).ravel()
    for i, ax in enumerate(axes):
        ax.axis("off")
        if i < m:
            ax.imshow(images[i], cmap=cmap if images[i].ndim == 2 else None)
            if titles is not None:
                ax.set_title(str(titles[i]), fontsize=8)
    return fig


def eigenfaces_figure(pca, shape, count: int = 8):
    """The mean face and the first ``count`` principal components of a fitted sklearn PCA, as
    images of ``shape`` (H, W); components in a red (+) / blue (-) scale."""
    fig = new_figure((count + 1) * 0.95, 1.3, dpi=85)
    axes = fig.subplots(1, count + 1)
    axes[0].imshow(pca.mean_.reshape(shape), cmap="gray")
    axes[0].set_title("mean", fontsize=8)
    for i, ax in enumerate(axes[1:]):
        comp = pca.components_[i].reshape(shape)
        lim = np.abs(comp).max()
        ax.imshow(comp, cmap="RdBu_r", vmin=-lim, vmax=lim)
        ax.set_title(f"PC {i + 1}", fontsize=8)
    for ax in axes:
        ax.axis("off")
    return fig


def pca_reconstruct(pca, X, k: int) -> np.ndarray:
    """Reconstruct rows of X (m, D) from their first ``k`` principal components: (m, D)."""
    if not 0 <= k <= pca.n_components_:
        raise ValueError(f"k must be in [0, {pca.n_components_}], got {k}")
    codes = (np.asarray(X) - pca.mean_) @ pca.components_[:k].T
    return pca.mean_ + codes @ pca.components_[:k]


class EigenfaceExplorer(widgets.VBox):
    """Slider k: a few faces rebuilt from the mean face plus their first k eigenface coordinates,
    with the share of the variance those k components explain."""

    def __init__(self, pca, X, shape, k: int = 5):
        self.pca, self.X, self.shape = pca, np.asarray(X), tuple(shape)
        self.k = widgets.IntSlider(value=k, min=0, max=pca.n_components_, description="components k",
                                   continuous_update=False, style={"description_width": "100px"})
        self.text = widgets.HTML()
        self.picture = _figure_image()
        self.k.observe(self._render, names="value")
        super().__init__([self.k, self.text, self.picture])
        self._render()

    def _render(self, _=None):
        k = self.k.value
        rebuilt = pca_reconstruct(self.pca, self.X.reshape(len(self.X), -1), k)
        share = float(self.pca.explained_variance_ratio_[:k].sum())
        self.text.value = (f"<div>{k} numbers per face instead of {int(np.prod(self.shape))} pixels: "
                           f"{share:.0%} of the pixel variance kept.</div>")
        m = len(self.X)
        fig = new_figure(m * 0.95, 2.2, dpi=85)
        axes = fig.subplots(2, m)
        for i in range(m):
            axes[0, i].imshow(self.X[i].reshape(self.shape), cmap="gray", vmin=0, vmax=1)
            axes[1, i].imshow(np.clip(rebuilt[i].reshape(self.shape), 0, 1), cmap="gray", vmin=0, vmax=1)
            axes[0, i].axis("off")
            axes[1, i].axis("off")
        axes[0, 0].set_title("photo", fontsize=8, loc="left")
        axes[1, 0].set_title(f"from {k} PCs", fontsize=8, loc="left")
        self.picture.value = figure_to_png(fig)


# ---------------------------------------------------------------------------------------------
# 3. Distances between embeddings (Siamese networks, one-shot learning)
# ---------------------------------------------------------------------------------------------


def distance_matrix(E) -> np.ndarray:
    """Euclidean distances between the rows of E (n, d): (n, n), zero diagonal."""
    E = np.asarray(E, dtype=np.float64)
    if E.ndim != 2:
        raise ValueError(f"E must be (n, d), got shape {E.shape}")
    sq = (E * E).sum(axis=1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2 * E @ E.T, 0.0)
    np.fill_diagonal(d2, 0.0)
    return np.sqrt(d2)


def pair_outcomes(D, names, threshold: float) -> dict:
    """Count the pairs i < j of a distance matrix D (n, n) judged "same person" (D < threshold)
    against the truth (names[i] == names[j]): dict with true_accepts, false_accepts, true_rejects,
    false_rejects and pairs."""
    D = np.asarray(D)
    names = list(names)
    if D.shape != (len(names), len(names)):
        raise ValueError(f"D must be ({len(names)}, {len(names)}), got {D.shape}")
    out = {"true_accepts": 0, "false_accepts": 0, "true_rejects": 0, "false_rejects": 0, "pairs": 0}
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            same, accept = names[i] == names[j], D[i, j] < threshold
            key = ("true_accepts" if same else "false_accepts") if accept else \
                  ("false_rejects" if same else "true_rejects")
            out[key] += 1
            out["pairs"] += 1
    return out


def distance_matrix_figure(D, labels, names, threshold: float):
    """The distance matrix as a heat map; pairs under ``threshold`` ("same person") framed in
    green when right, red when wrong."""
    import matplotlib.patches as mpatches

    D = np.asarray(D)
    n = len(D)
    fig = new_figure(5.2, 4.4, dpi=85)
    ax = fig.subplots()
    im = ax.imshow(D, cmap="viridis_r", vmin=0, vmax=max(1.2, float(D.max())))
    for i in range(n):
        for j in range(n):
            ax.text(j, i, f"{D[i, j]:.2f}", ha="center", va="center", fontsize=8,
                    color="white" if D[i, j] > 0.75 * max(1.2, D.max()) else "black")
            if i != j and D[i, j] < threshold:
                right = names[i] == names[j]
                ax.add_patch(mpatches.Rectangle((j - 0.46, i - 0.46), 0.92, 0.92, fill=False, lw=2.2,
                                                edgecolor="#2e7d32" if right else "#c62828"))
    ax.set_xticks(range(n))
    ax.set_yticks(range(n))
    ax.set_xticklabels(labels, rotation=45, ha="right", fontsize=8)
    ax.set_yticklabels(labels, fontsize=8)
    ax.set_title(f"distances; framed: < {threshold:g} (\"same person\")", fontsize=10)
    fig.colorbar(im, ax=ax, fraction=0.046)
    return fig


class ThresholdExplorer(widgets.VBox):
    """Slider threshold over a distance matrix: which pairs are called "same person", and how many
    of those calls are right."""

    def __init__(self, D, labels, names, threshold: float = 0.6):
        self.D, self.labels, self.names = np.asarray(D), list(labels), list(names)
        self.threshold = widgets.FloatSlider(value=threshold, min=0.2, max=1.2, step=0.05,
                                             description="threshold", continuous_update=False,
                                             style={"description_width": "100px"})
        self.text = widgets.HTML()
        self.picture = _figure_image()
        self.threshold.observe(self._render, names="value")
        super().__init__([self.threshold, self.text, self.picture])
        self._render()

    def _render(self, _=None):
        t = self.threshold.value
        o = pair_outcomes(self.D, self.names, t)
        self.text.value = (f"<div>{o['pairs']} pairs: {o['true_accepts']} same-person pairs accepted, "
                           f"{o['false_rejects']} rejected; {o['false_accepts']} different-person pairs "
                           f"wrongly accepted, {o['true_rejects']} rightly rejected.</div>")
        self.picture.value = figure_to_png(distance_matrix_figure(self.D, self.labels, self.names, t))


def portrait_chips():
    """The six real portraits of :mod:`helpers.data.faces` cut to 150x150 face chips.

    Returns (chips (6, 150, 150, 3) uint8, people (list of names), keys (list of photo keys))."""
    from helpers.data.faces import FACE_BOXES, FACE_PEOPLE, load_face_photo
    from helpers.models.face_embedding import face_chip

    keys = list(FACE_PEOPLE)
    chips = np.stack([face_chip(load_face_photo(key), FACE_BOXES[key]) for key in keys])
    return chips, [FACE_PEOPLE[key] for key in keys], keys


# ---------------------------------------------------------------------------------------------
# 4. Triplet loss and a tiny embedding network (numpy)
# ---------------------------------------------------------------------------------------------


def triplet_losses(anchor, positive, negative, alpha: float) -> np.ndarray:
    """Per-triplet loss max(|a - p|^2 - |a - n|^2 + alpha, 0); inputs (m, d), output (m,)."""
    a, p, n = (np.asarray(v, dtype=np.float64) for v in (anchor, positive, negative))
    if not a.shape == p.shape == n.shape or a.ndim != 2:
        raise ValueError(f"anchor, positive, negative must be equal (m, d) arrays, got {a.shape}, "
                         f"{p.shape}, {n.shape}")
    if alpha < 0:
        raise ValueError(f"alpha must be >= 0, got {alpha}")
    return np.maximum(((a - p) ** 2).sum(1) - ((a - n) ** 2).sum(1) + alpha, 0.0)


def triplet_kinds(anchor, positive, negative, alpha: float) -> np.ndarray:
    """Name each triplet (m,): 'hard' (negative closer than the positive), 'semi-hard' (negative
    further, but within the margin: loss > 0) or 'easy' (loss 0). Distances are squared Euclidean."""
    a, p, n = (np.asarray(v, dtype=np.float64) for v in (anchor, positive, negative))
    dp, dn = ((a - p) ** 2).sum(1), ((a - n) ** 2).sum(1)
    return np.where(dn < dp, "hard", np.where(dn < dp + alpha, "semi-hard", "easy"))


def random_triplets(y, count: int, seed: int = 0) -> np.ndarray:
    """``count`` (anchor, positive, negative) index triples: positive a different photo of the
    anchor's person, negative a photo of someone else. Returns (count, 3) int."""
    y = np.asarray(y)
    order = np.argsort(y, kind="stable")
    classes, starts, counts = np.unique(y[order], return_index=True, return_counts=True)
    if len(classes) < 2 or counts.min() < 2:
        raise ValueError("every person needs >= 2 photos and there must be >= 2 people")
    rank = np.empty(len(y), dtype=np.int64)
    rank[order] = np.arange(len(y))
    rng = np.random.default_rng(seed)
    anchors = rng.integers(0, len(y), count)
    c = np.searchsorted(classes, y[anchors])
    start, size = starts[c], counts[c]
    within = rank[anchors] - start
    positives = order[start + (within + 1 + rng.integers(0, size - 1)) % size]
    r = rng.integers(0, len(y) - size)
    negatives = order[np.where(r < start, r, r + size)]
    out = np.stack([anchors, positives, negatives], axis=1)
    return out


def init_embedding_net(d_in: int, hidden: int = 32, d_out: int = 2, seed: int = 0) -> dict:
    """Weights of a tiny network x (d_in) -> tanh(W1 x + b1) (hidden) -> W2 h (d_out)."""
    rng = np.random.default_rng(seed)
    return {"W1": rng.normal(0, 1 / np.sqrt(d_in), (d_in, hidden)), "b1": np.zeros(hidden),
            "W2": rng.normal(0, 1 / np.sqrt(hidden), (hidden, d_out))}


def embed_net(params: dict, X) -> np.ndarray:
    """Embeddings (m, d_out) of inputs X (m, d_in) by :func:`init_embedding_net`'s network."""
    return np.tanh(np.asarray(X) @ params["W1"] + params["b1"]) @ params["W2"]


def train_triplet_net(X, y, steps: int = 300, alpha: float = 0.5, lr: float = 0.05, batch: int = 64,
                      hidden: int = 32, seed: int = 0, snapshot_every: int = 25) -> list[dict]:
    """Train :func:`init_embedding_net`'s network with the triplet loss (random triplets, plain
    gradient descent, gradients written out by hand). X (m, d_in), y (m,) person index.

    Returns the snapshots [{'step', 'params', 'loss'}] at step 0 and every ``snapshot_every`` steps.
    """
    X = np.asarray(X, dtype=np.float64)
    params = init_embedding_net(X.shape[1], hidden, 2, seed)
    rng_seed = int(seed) * 1000
    snaps = []
    for step in range(int(steps) + 1):
        idx = random_triplets(y, batch, rng_seed + step)
        xa, xp, xn = X[idx[:, 0]], X[idx[:, 1]], X[idx[:, 2]]
        hs = [np.tanh(x @ params["W1"] + params["b1"]) for x in (xa, xp, xn)]
        ea, ep, en = (h @ params["W2"] for h in hs)
        loss = triplet_losses(ea, ep, en, alpha)
        if step % snapshot_every == 0:
            snaps.append({"step": step, "params": {k: v.copy() for k, v in params.items()},
                          "loss": float(loss.mean())})
        if step == steps:
            break
        active = (loss > 0)[:, None] / batch
        grads_e = [2 * (en - ep) * active, -2 * (ea - ep) * active, 2 * (ea - en) * active]
        gW1, gb1, gW2 = 0.0, 0.0, 0.0
        for x, h, ge in zip((xa, xp, xn), hs, grads_e):
            gW2 = gW2 + h.T @ ge
            gz = (ge @ params["W2"].T) * (1 - h * h)
            gW1 = gW1 + x.T @ gz
            gb1 = gb1 + gz.sum(0)
        params["W1"] -= lr * gW1
        params["b1"] -= lr * gb1
        params["W2"] -= lr * gW2
    return snaps


class TripletExplorer(widgets.VBox):
    """Slider training step: the 2-D embeddings of the tiny network at that step (one colour per
    person); slider margin alpha: which of a fixed set of triplets still have a non-zero loss
    (lines from anchor to negative: red hard, orange semi-hard, none for easy)."""

    def __init__(self, snapshots, X, y, triplets, alpha: float = 0.5):
        self.snaps, self.X, self.y, self.triplets = snapshots, np.asarray(X), np.asarray(y), triplets
        self.step = widgets.SelectionSlider(options=[s["step"] for s in snapshots], value=snapshots[0]["step"],
                                            description="training step", continuous_update=False,
                                            style={"description_width": "100px"})
        self.alpha = widgets.FloatSlider(value=alpha, min=0.0, max=2.0, step=0.1, description="margin alpha",
                                         continuous_update=False, style={"description_width": "100px"})
        self.text = widgets.HTML()
        self.picture = _figure_image()
        for c in (self.step, self.alpha):
            c.observe(self._render, names="value")
        super().__init__([_row([self.step, self.alpha]), self.text, self.picture])
        self._render()

    def embeddings(self) -> np.ndarray:
        snap = next(s for s in self.snaps if s["step"] == self.step.value)
        return embed_net(snap["params"], self.X)

    def _render(self, _=None):
        E = self.embeddings()
        t = self.triplets
        a, p, n = E[t[:, 0]], E[t[:, 1]], E[t[:, 2]]
        alpha = self.alpha.value
        kinds = triplet_kinds(a, p, n, alpha)
        losses = triplet_losses(a, p, n, alpha)
        counts = {k: int((kinds == k).sum()) for k in ("easy", "semi-hard", "hard")}
        self.text.value = (f"<div>{len(t)} triplets at step {self.step.value}, alpha = {alpha:.1f}: "
                           f"<b>{counts['hard']}</b> hard, <b>{counts['semi-hard']}</b> semi-hard, "
                           f"<b>{counts['easy']}</b> easy (loss 0); mean loss {losses.mean():.3f}.</div>")
        fig = new_figure(4.8, 4.3, dpi=85)
        ax = fig.subplots()
        for (ia, _ip, ineg), kind in zip(t, kinds):
            if kind != "easy":
                ax.plot(*zip(E[ia], E[ineg]), color="#c62828" if kind == "hard" else "#ef6c00",
                        lw=0.8, alpha=0.7, zorder=1)
        ax.scatter(E[:, 0], E[:, 1], c=self.y, cmap="tab10", s=16, zorder=2, edgecolors="none")
        ax.set_title(f"step {self.step.value}: embeddings f(x) in 2-D", fontsize=10)
        ax.set_aspect("equal", adjustable="datalim")
        ax.grid(alpha=0.3)
        self.picture.value = figure_to_png(fig)


def pair_features(Ea, Eb) -> np.ndarray:
    """Features of a pair of embeddings for a same/different classifier: |f(a) - f(b)|, (m, d)."""
    Ea, Eb = np.asarray(Ea), np.asarray(Eb)
    if Ea.shape != Eb.shape:
        raise ValueError(f"Ea and Eb must have the same shape, got {Ea.shape} and {Eb.shape}")
    return np.abs(Ea - Eb)


def all_pairs(y) -> tuple[np.ndarray, np.ndarray]:
    """Every pair i < j of items with labels y: (pairs (P, 2) int, same (P,) 0/1)."""
    y = np.asarray(y)
    i, j = np.triu_indices(len(y), k=1)
    return np.stack([i, j], axis=1), (y[i] == y[j]).astype(int)


def identity_sets(n_train: int, n_test: int, per_person: int, seed: int = 0, size: int = 32) -> dict:
    """Grey photos of drawn identities, the training people disjoint from the test people.

    Returns {'X_train': (n_train * per_person, size, size, 1) floats in [0, 1], 'y_train': (.,) int,
    'X_test', 'y_test'} (test people numbered from n_train on)."""
    if int(n_train) != n_train or n_train < 2 or int(n_test) != n_test or n_test < 2:
        raise ValueError(f"n_train and n_test must be integers >= 2, got {n_train!r}, {n_test!r}")
    X, y = drawn_people(int(n_train + n_test), per_person, seed=seed, size=size, gray=True)
    train = y < n_train
    X = X[..., None]
    return {"X_train": X[train], "y_train": y[train], "X_test": X[~train], "y_test": y[~train]}


def dlib_distances(n_train: int, n_test: int, per_person: int, seed: int = 0, size: int = 64):
    """dlib's face embedding (trained on real photos, not retrained) on the test people of
    :func:`identity_sets` with the same arguments: the colour drawings at ``size`` pixels, the head
    (the middle 7/8 of the picture) resized to 150x150 chips. Returns (d (P,), same (P,)) over the test
    pairs i < j, the Euclidean distances dlib's threshold 0.6 applies to."""
    from skimage.transform import resize

    from helpers.models.face_embedding import CHIP_SIZE, embed

    X, y = drawn_people(int(n_train + n_test), per_person, seed=seed, size=size, gray=False)
    test = y >= n_train
    m = size // 16
    chips = np.stack([resize(x[m:size - m, m:size - m], (CHIP_SIZE, CHIP_SIZE), anti_aliasing=True)
                      for x in X[test]])
    return pair_distances(embed(np.round(chips * 255).astype(np.uint8)), y[test])


def pair_distances(E, y) -> tuple[np.ndarray, np.ndarray]:
    """Euclidean distances of every pair i < j of embeddings E (m, d) and whether the pair shows one
    person: (d (P,), same (P,) bool), P = m (m - 1) / 2."""
    E, y = np.asarray(E, dtype=np.float64), np.asarray(y)
    if E.ndim != 2 or len(E) != len(y):
        raise ValueError(f"E must be (m, d) with one label per row, got {E.shape} and {y.shape}")
    i, j = np.triu_indices(len(y), k=1)
    return distance_matrix(E)[i, j], y[i] == y[j]


def threshold_at_far(d, same, far: float = 0.01) -> float:
    """The largest threshold tau such that at most a share ``far`` of the different-person pairs has
    d < tau (pairs with d < tau are accepted as "same person")."""
    d, same = np.asarray(d, dtype=np.float64), np.asarray(same, dtype=bool)
    if not 0.0 <= far < 1.0:
        raise ValueError(f"far must be in [0, 1), got {far}")
    if same.all() or not same.any():
        raise ValueError("need both same-person and different-person pairs")
    neg = np.sort(d[~same])
    allowed = int(np.floor(far * len(neg)))       # this many different-person pairs may fall below tau
    return float(neg[allowed])


def verification_rates(d, same, threshold: float) -> dict:
    """Decisions d < threshold against the truth: {'tar': share of same-person pairs accepted,
    'far': share of different-person pairs accepted, 'accuracy': (tar + 1 - far) / 2, the accuracy
    on as many same- as different-person pairs, 'threshold'}."""
    d, same = np.asarray(d, dtype=np.float64), np.asarray(same, dtype=bool)
    accept = d < threshold
    tar, far = float(accept[same].mean()), float(accept[~same].mean())
    return {"tar": tar, "far": far, "accuracy": (tar + 1.0 - far) / 2.0, "threshold": float(threshold)}


def roc_points(d, same) -> tuple[np.ndarray, np.ndarray]:
    """The ROC curve of the decision d < tau over all tau: (far (n,), tar (n,)), both increasing."""
    from sklearn.metrics import roc_curve

    far, tar, _ = roc_curve(np.asarray(same, dtype=int), -np.asarray(d, dtype=np.float64))
    return far, tar


def roc_figure(curves: dict, far: float = 0.01):
    """ROC curves {name: (d, same)} on a logarithmic false-accept axis, with ``far`` marked."""
    fig = new_figure(6.0, 3.8 + 0.2 * ((len(curves) + 1) // 2), dpi=85)
    ax = fig.subplots()
    for k, (name, (d, same)) in enumerate(curves.items()):
        x, t = roc_points(d, same)
        keep = x > 0
        ax.plot(x[keep], t[keep], lw=1.8, color=f"C{k}",
                label=f"{name}: {verification_rates(d, same, threshold_at_far(d, same, far))['tar']:.0%}")
    ax.axvline(far, color="0.4", ls="--", lw=1)
    ax.set_xscale("log")
    ax.set_xlim(1e-4, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("false-accept rate (different people accepted)")
    ax.set_ylabel("true-accept rate")
    ax.set_title(f"verification ROC on new people (legend: true accepts at {far:g} false accepts)", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False)
    return fig


def classical_distances(X_train, y_train, X_test, y_test, components: int = 40, svm_pairs: int = 1000,
                        seed: int = 0) -> tuple[dict, object]:
    """Eigenfaces, Fisherfaces and an SVM learned on the training people, used to compare every pair
    of photos of the (other) test people. X (m, H, W[, 1]) grey images, y (m,) person index.

    Returns ({name: (d (P,), same (P,))} over the test pairs i < j, where smaller d means "more likely
    the same person"; the fitted PCA (for :func:`eigenfaces_figure`)):
    - 'pixels': Euclidean distance of the raw pixels;
    - 'eigenfaces (PCA)': distance of the first ``components`` PCA coordinates;
    - 'Fisherfaces (PCA + LDA)': distance after LDA on the PCA coordinates (people as classes);
    - 'SVM on PCA pairs': minus the decision value of an RBF SVC trained on |z_a - z_b| of whitened
      PCA coordinates of ``svm_pairs`` same- and as many different-person training pairs, evaluated
      on every same-person test pair and at most 8000 different-person ones (rates are shares, so
      they compare with the other methods' all-pairs rates)."""
    from threadpoolctl import threadpool_limits

    # small problems: one BLAS thread is as fast, and many times faster on a busy machine
    with threadpool_limits(1):
        return _classical_distances(X_train, y_train, X_test, y_test, components, svm_pairs, seed)


def _classical_distances(X_train, y_train, X_test, y_test, components, svm_pairs, seed):
    from sklearn.decomposition import PCA
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.svm import SVC

    A = np.asarray(X_train, dtype=np.float64).reshape(len(X_train), -1)
    B = np.asarray(X_test, dtype=np.float64).reshape(len(X_test), -1)
    y_train, y_test = np.asarray(y_train), np.asarray(y_test)
    components = int(min(components, len(A) - 1, A.shape[1]))
    pca = PCA(components, svd_solver="randomized", random_state=seed).fit(A)
    A_pca, B_pca = pca.transform(A), pca.transform(B)
    lda = LinearDiscriminantAnalysis().fit(A_pca, y_train)
    scale = np.sqrt(pca.explained_variance_)   # whitened PCA coordinates for the SVM (what whiten=True gives)
    out = {"pixels": pair_distances(B, y_test),
           "eigenfaces (PCA)": pair_distances(B_pca, y_test),
           "Fisherfaces (PCA + LDA)": pair_distances(lda.transform(B_pca), y_test)}
    rng = np.random.default_rng(seed)
    i, j = np.triu_indices(len(y_train), k=1)
    same = y_train[i] == y_train[j]
    pick_same = rng.choice(np.flatnonzero(same), min(svm_pairs, int(same.sum())), replace=False)
    pick_diff = rng.choice(np.flatnonzero(~same), len(pick_same), replace=False)
    pick = np.concatenate([pick_same, pick_diff])
    Z = A_pca / scale
    svm = SVC(kernel="rbf", C=1.0, gamma="scale").fit(pair_features(Z[i[pick]], Z[j[pick]]), same[pick])
    Zt = B_pca / scale
    ti, tj = np.triu_indices(len(y_test), k=1)
    same_test = y_test[ti] == y_test[tj]
    diff = np.flatnonzero(~same_test)      # the SVM is slow to evaluate: all same-person test pairs and
    keep = np.sort(np.concatenate([np.flatnonzero(same_test),                 # at most 8000 others
                                   rng.choice(diff, min(8000, len(diff)), replace=False)]))
    scores = svm.decision_function(pair_features(Zt[ti[keep]], Zt[tj[keep]]))
    out["SVM on PCA pairs"] = (-scores, same_test[keep])
    return out, pca


def verification_table(curves: dict, far: float = 0.01) -> list[dict]:
    """One row per method {name: (d, same)}: the true-accept rate and balanced accuracy at the
    threshold that falsely accepts a share ``far`` of the different-person pairs, and the ROC's area."""
    from sklearn.metrics import roc_auc_score

    rows = []
    for name, (d, same) in curves.items():
        r = verification_rates(d, same, threshold_at_far(d, same, far))
        rows.append({"method": name, f"true accepts at {far:.0%} false accepts": f"{r['tar']:.1%}",
                     "accuracy (balanced)": f"{r['accuracy']:.1%}",
                     "ROC area": f"{roc_auc_score(np.asarray(same, dtype=int), -np.asarray(d)):.3f}"})
    return rows


def recognition_experiment(E, y, enrolled: int, threshold: float, seed: int = 0) -> dict:
    """1:K recognition with the embeddings E (m, d) of photos of people y (m,): ``enrolled`` people
    (chosen at random) are in the database with one photo each; every other photo of them is a
    visitor to recognise, every photo of the other people a stranger.

    Returns {'K', 'visitors', 'strangers', 'recognised' (share of visitors matched to the right
    person under the threshold), 'stranger_accepted' (share of strangers matched to someone),
    'far_pair' (share of stranger-vs-database comparisons under the threshold), 'predicted'
    (1 - (1 - far_pair)^K)}."""
    E, y = np.asarray(E, dtype=np.float64), np.asarray(y)
    people = np.unique(y)
    if not 1 <= enrolled < len(people):
        raise ValueError(f"enrolled must be in [1, {len(people) - 1}], got {enrolled}")
    rng = np.random.default_rng(seed)
    members = rng.choice(people, enrolled, replace=False)
    gallery = np.array([rng.choice(np.flatnonzero(y == p)) for p in members])
    rest = np.setdiff1d(np.arange(len(y)), gallery)
    dist = np.linalg.norm(E[rest][:, None] - E[gallery][None], axis=-1)        # (queries, K)
    is_member = np.isin(y[rest], members)
    best = dist.argmin(1)
    hit = dist[np.arange(len(rest)), best] < threshold
    recognised = hit & (members[best] == y[rest])
    far_pair = float((dist[~is_member] < threshold).mean())
    return {"K": int(enrolled), "visitors": int(is_member.sum()), "strangers": int((~is_member).sum()),
            "recognised": float(recognised[is_member].mean()),
            "stranger_accepted": float(hit[~is_member].mean()), "far_pair": far_pair,
            "predicted": false_match_probability(far_pair, enrolled)}


# ---------------------------------------------------------------------------------------------
# 5. What deep ConvNets learn: the patches that excite a unit most
# ---------------------------------------------------------------------------------------------

#: VGG16 layers up to block4_conv3 as (name, kernel, stride): 3x3 'same' convolutions, 2x2 pools.
VGG16_STACK = (
    ("block1_conv1", 3, 1), ("block1_conv2", 3, 1), ("block1_pool", 2, 2),
    ("block2_conv1", 3, 1), ("block2_conv2", 3, 1), ("block2_pool", 2, 2),
    ("block3_conv1", 3, 1), ("block3_conv2", 3, 1), ("block3_conv3", 3, 1), ("block3_pool", 2, 2),
    ("block4_conv1", 3, 1), ("block4_conv2", 3, 1), ("block4_conv3", 3, 1), ("block4_pool", 2, 2),
    ("block5_conv1", 3, 1), ("block5_conv2", 3, 1), ("block5_conv3", 3, 1),
)


def receptive_fields(stack) -> dict:
    """Receptive field of every layer of a stack of (name, kernel, stride) layers with 'same'
    padding for odd kernels and none for pools: {name: (size r, jump j, start)}, where output
    position i of the layer looks at input pixels centred on start + i * j, r pixels wide.
    r_out = r_in + (k - 1) * j_in, j_out = j_in * s, start moves by (k - 1) / 2 * j_in for
    unpadded layers."""
    r, j, start = 1, 1, 0.5
    out = {}
    for name, k, s in stack:
        if k < 1 or s < 1:
            raise ValueError(f"{name}: kernel and stride must be >= 1, got {k}, {s}")
        pad = (k - 1) / 2 if k % 2 == 1 else 0
        r, start, j = r + (k - 1) * j, start + ((k - 1) / 2 - pad) * j, j * s
        out[name] = (r, j, start)
    return out


def top_activations(acts, channel: int, count: int = 9, border: int = 0) -> list[tuple[int, int, int, float]]:
    """The ``count`` strongest responses of ``channel`` in activations (m, H, W, C), at most one per
    image, ignoring the ``border`` outermost rows and columns: [(image, row, col, value)],
    strongest first."""
    acts = np.asarray(acts)
    if acts.ndim != 4 or not 0 <= channel < acts.shape[-1]:
        raise ValueError(f"acts must be (m, H, W, C) and channel in [0, C), got {acts.shape}, {channel}")
    if not 0 <= border < (min(acts.shape[1:3]) + 1) // 2:
        raise ValueError(f"border must leave positions to choose from, got {border} for {acts.shape[1:3]}")
    maps = acts[..., channel].copy()
    if border:
        maps[:, :border], maps[:, -border:], maps[:, :, :border], maps[:, :, -border:] = -np.inf, -np.inf, -np.inf, -np.inf
    flat = maps.reshape(len(maps), -1)
    best = flat.argmax(1)
    values = flat[np.arange(len(maps)), best]
    order = np.argsort(-values)[:count]
    w = maps.shape[2]
    return [(int(i), int(best[i] // w), int(best[i] % w), float(values[i])) for i in order]


def patch_border(field: tuple, image_size: int, map_size: int) -> int:
    """Rows/columns at the edge of a layer's map to skip so that the receptive-field centres stay at
    least min(r / 2, image_size / 4) pixels inside the photo (units at the edge mostly see padding)."""
    r, j, start = field
    keep = min(r / 2, image_size / 4)
    border = int(np.ceil(max(0.0, keep - start) / j))
    return min(border, (map_size - 1) // 2)


def crop_patch(image, row: int, col: int, field: tuple) -> np.ndarray:
    """The r x r input patch (zero outside the image) seen by output position (row, col) of a layer
    whose receptive field is ``field`` = (r, j, start). image (H, W, 3) -> (r, r, 3)."""
    r, j, start = field
    image = np.asarray(image)
    top = int(round(start + row * j - r / 2))
    left = int(round(start + col * j - r / 2))
    out = np.zeros((r, r) + image.shape[2:], dtype=image.dtype)
    t0, l0 = max(top, 0), max(left, 0)
    t1, l1 = min(top + r, image.shape[0]), min(left + r, image.shape[1])
    if t1 > t0 and l1 > l0:
        out[t0 - top:t1 - top, l0 - left:l1 - left] = image[t0:t1, l0:l1]
    return out


def patch_photos(size: int = 112) -> tuple[np.ndarray, list[str]]:
    """Photos that the installed packages ship (scikit-image, scikit-learn, matplotlib), centre-
    cropped to squares and resized: ((m, size, size, 3) floats in [0, 1], names)."""
    import skimage.data
    from skimage.transform import resize

    pictures = {name: getattr(skimage.data, name)() for name in
                ("astronaut", "chelsea", "coffee", "rocket", "camera", "brick", "coins", "hubble_deep_field",
                 "colorwheel", "immunohistochemistry", "motorcycle_left", "retina")
                if hasattr(skimage.data, name)}
    try:
        from sklearn.datasets import load_sample_images

        for name, img in zip(("china", "flower"), load_sample_images().images):
            pictures[name] = img
    except Exception:  # noqa: BLE001 - optional extra photos
        pass
    try:
        import matplotlib.image as mpimg
        from matplotlib.cbook import get_sample_data

        pictures["grace_hopper"] = mpimg.imread(get_sample_data("grace_hopper.jpg", asfileobj=False))
    except Exception:  # noqa: BLE001
        pass
    out, names = [], []
    for name, img in pictures.items():
        img = np.asarray(img).astype(np.float32)
        img = img / 255.0 if img.max() > 1.5 else img
        if img.ndim == 2:
            img = np.repeat(img[..., None], 3, -1)
        img = img[..., :3]
        h, w = img.shape[:2]
        s = min(h, w)
        img = img[(h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s]
        out.append(resize(img, (size, size), anti_aliasing=True).astype(np.float32))
        names.append(name)
    return np.stack(out), names


class PatchExplorer(widgets.VBox):
    """Sliders layer and unit: the input patches (the unit's receptive field) of the photos where
    that unit of that layer responds most, strongest first."""

    def __init__(self, activations: dict, images, fields: dict, count: int = 8, layer: str | None = None,
                 unit: int = 0):
        self.acts, self.images, self.fields, self.count = activations, np.asarray(images), fields, count
        names = list(activations)
        layer = names[0] if layer is None else layer
        if layer not in names:
            raise ValueError(f"layer must be one of {names}, got {layer!r}")
        self.layer = widgets.SelectionSlider(options=names, value=layer, description="layer",
                                             continuous_update=False, style={"description_width": "60px"},
                                             layout=widgets.Layout(width="380px"))
        self.unit = widgets.IntSlider(value=unit, min=0, max=activations[layer].shape[-1] - 1,
                                      description="unit", continuous_update=False,
                                      style={"description_width": "60px"})
        self.text = widgets.HTML()
        self.picture = _figure_image()
        self.layer.observe(self._layer_changed, names="value")
        self.unit.observe(self._render, names="value")
        super().__init__([_row([self.layer, self.unit]), self.text, self.picture])
        self._render()

    def _layer_changed(self, _=None):
        with self.unit.hold_trait_notifications():
            self.unit.max = self.acts[self.layer.value].shape[-1] - 1
            self.unit.value = min(self.unit.value, self.unit.max)
        self._render()

    def _render(self, _=None):
        name, unit = self.layer.value, self.unit.value
        acts = self.acts[name]
        field = self.fields[name]
        top = top_activations(acts, unit, self.count, border=patch_border(field, self.images.shape[1], acts.shape[1]))
        self.text.value = (f"<div>{name}: {acts.shape[1]}x{acts.shape[2]}x{acts.shape[3]}, each unit sees a "
                           f"{field[0]}x{field[0]} pixel patch (jump {field[1]} px). Unit {unit}'s "
                           f"strongest responses, one per photo (black: outside the photo):</div>")
        fig = new_figure(self.count * 1.0, 1.35, dpi=85)
        axes = fig.subplots(1, self.count)
        for ax, (i, r, c, v) in zip(axes, top):
            ax.imshow(np.clip(crop_patch(self.images[i], r, c, field), 0, 1))
            ax.set_title(f"{v:.0f}", fontsize=8)
        for ax in axes:
            ax.axis("off")
        self.picture.value = figure_to_png(fig)


# ---------------------------------------------------------------------------------------------
# 6. Neural style transfer: content and style costs
# ---------------------------------------------------------------------------------------------


def gram(A) -> np.ndarray:
    """Style matrix of activations A (H, W, C): G[k, k'] = sum over positions of a_k * a_k', (C, C)."""
    A = np.asarray(A, dtype=np.float64)
    if A.ndim != 3:
        raise ValueError(f"A must be (H, W, C), got shape {A.shape}")
    flat = A.reshape(-1, A.shape[-1])
    return flat.T @ flat


def content_cost(a_c, a_g) -> float:
    """J_content = 1 / (4 n_H n_W n_C) * sum (a_C - a_G)^2 for activations (H, W, C)."""
    a_c, a_g = np.asarray(a_c, dtype=np.float64), np.asarray(a_g, dtype=np.float64)
    if a_c.shape != a_g.shape or a_c.ndim != 3:
        raise ValueError(f"a_c and a_g must be equal (H, W, C) arrays, got {a_c.shape}, {a_g.shape}")
    return float(((a_c - a_g) ** 2).sum() / (4 * a_c.size))


def layer_style_cost(a_s, a_g) -> float:
    """J_style of one layer = 1 / (4 n_C^2 (n_H n_W)^2) * sum (G_S - G_G)^2 for activations (H, W, C)."""
    a_s, a_g = np.asarray(a_s), np.asarray(a_g)
    if a_s.shape != a_g.shape or a_s.ndim != 3:
        raise ValueError(f"a_s and a_g must be equal (H, W, C) arrays, got {a_s.shape}, {a_g.shape}")
    h, w, c = a_s.shape
    return float(((gram(a_s) - gram(a_g)) ** 2).sum() / (4 * c * c * (h * w) ** 2))


def nst_cost(j_content: float, j_style: float, alpha: float = 10, beta: float = 40) -> float:
    """J(G) = alpha J_content + beta J_style."""
    return float(alpha * j_content + beta * j_style)


class StyleExplorer(widgets.VBox):
    """Slider layer: the Gram matrices (first channels) of two pictures at that layer; sliders
    per-layer weights: each layer's weighted style cost between the two pictures and their sum."""

    def __init__(self, acts_a: dict, acts_b: dict, names=("A", "B"), channels: int = 24):
        self.acts_a, self.acts_b, self.names, self.channels = acts_a, acts_b, names, channels
        layers = list(acts_a)
        self.costs = {name: layer_style_cost(acts_a[name], acts_b[name]) for name in layers}
        self.layer = widgets.SelectionSlider(options=layers, value=layers[0], description="layer",
                                             continuous_update=False, style={"description_width": "60px"},
                                             layout=widgets.Layout(width="380px"))
        self.weights = {name: widgets.FloatSlider(value=round(1 / len(layers), 2), min=0, max=1, step=0.05,
                                                  description=name, continuous_update=False,
                                                  style={"description_width": "100px"})
                        for name in layers}
        self.text = widgets.HTML()
        self.grams = _figure_image()
        self.bars = _figure_image()
        self.layer.observe(self._render_grams, names="value")
        for w in self.weights.values():
            w.observe(self._render_costs, names="value")
        super().__init__([self.layer, self.grams, widgets.VBox(list(self.weights.values())),
                          self.text, self.bars])
        self._render_grams()
        self._render_costs()

    def weighted_costs(self) -> dict:
        return {name: self.weights[name].value * cost for name, cost in self.costs.items()}

    def _render_grams(self, _=None):
        name, k = self.layer.value, self.channels
        fig = new_figure(6.0, 3.0, dpi=85)
        axes = fig.subplots(1, 2)
        for ax, acts, title in zip(axes, (self.acts_a, self.acts_b), self.names):
            a = acts[name]
            g = gram(a)[:k, :k] / (a.shape[0] * a.shape[1])
            ax.imshow(g, cmap="magma")
            ax.set_title(f"{title}: Gram of {name}\n(first {k} of {a.shape[-1]} channels)", fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
        self.grams.value = figure_to_png(fig)

    def _render_costs(self, _=None):
        weighted = self.weighted_costs()
        total = sum(weighted.values())
        self.text.value = (f"<div>J<sub>style</sub>({html.escape(self.names[0])}, "
                           f"{html.escape(self.names[1])}) = &Sigma; &lambda;<sup>[l]</sup> "
                           f"J<sup>[l]</sup><sub>style</sub> = <b>{total:,.4g}</b></div>")
        fig = new_figure(5.6, 2.4, dpi=85)
        ax = fig.subplots()
        names = list(weighted)
        ax.bar(range(len(names)), [max(v, 1e-12) for v in weighted.values()], color="C0")
        ax.set_yscale("log")
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels([n.replace("_", "\n") for n in names], fontsize=8)
        ax.set_ylabel("weight x layer cost", fontsize=9)
        ax.grid(alpha=0.3, axis="y")
        self.bars.value = figure_to_png(fig)


# ---------------------------------------------------------------------------------------------
# 7. 1D and 3D convolutions
# ---------------------------------------------------------------------------------------------


def ecg_like_signal(seconds: float = 4.0, rate: int = 250, bpm: float = 72, noise: float = 0.05,
                    seed: int = 0) -> np.ndarray:
    """A generated ECG-like trace (not a real recording): per beat a small P wave, a sharp QRS
    spike and a T wave, plus slow baseline wander and noise. Returns (round(seconds * rate),)."""
    if seconds <= 0 or rate < 10 or bpm <= 0:
        raise ValueError("seconds and bpm must be > 0, rate >= 10")
    rng = np.random.default_rng(seed)
    t = np.arange(int(round(seconds * rate))) / rate
    x = np.zeros_like(t)
    for beat in np.arange(0.3, seconds, 60.0 / bpm):
        for offset, height, width in ((-0.18, 0.12, 0.025), (-0.02, -0.12, 0.008), (0.0, 1.0, 0.010),
                                      (0.025, -0.25, 0.010), (0.25, 0.3, 0.04)):
            x += height * np.exp(-0.5 * ((t - beat - offset) / width) ** 2)
    x += 0.15 * np.sin(2 * np.pi * 0.3 * t) + noise * rng.standard_normal(len(t))
    return x


def conv1d(x, w, stride: int = 1) -> np.ndarray:
    """'Valid' 1-D cross-correlation: out[i] = sum_k x[i*s + k] w[k]; (n,), (f,) -> (floor((n-f)/s)+1,)."""
    x, w = np.asarray(x, dtype=np.float64), np.asarray(w, dtype=np.float64)
    if x.ndim != 1 or w.ndim != 1:
        raise ValueError("x and w must be 1-D")
    n_out = output_size(len(x), len(w), 0, stride)
    idx = np.arange(n_out)[:, None] * stride + np.arange(len(w))[None, :]
    return x[idx] @ w


def conv_output_shape(shape, kernel, stride=1, pad=0) -> tuple:
    """Output size per axis, floor((n + 2p - f) / s) + 1, for any number of axes."""
    shape = tuple(shape)
    kernel = (kernel,) * len(shape) if np.isscalar(kernel) else tuple(kernel)
    stride = (stride,) * len(shape) if np.isscalar(stride) else tuple(stride)
    pad = (pad,) * len(shape) if np.isscalar(pad) else tuple(pad)
    if not len(shape) == len(kernel) == len(stride) == len(pad):
        raise ValueError("shape, kernel, stride and pad must have one entry per axis")
    return tuple(output_size(n, f, p, s) for n, f, p, s in zip(shape, kernel, pad, stride))


def filter_kernel(kind: str, width: int) -> np.ndarray:
    """1-D kernels: 'smooth' (box average), 'slope' (difference: +1/2 ... -1/2, spikes have steep
    slopes) or 'spike' (a matched filter shaped like a QRS spike). (width,)."""
    if width < 2:
        raise ValueError(f"width must be >= 2, got {width}")
    if kind == "smooth":
        return np.full(width, 1.0 / width)
    if kind == "slope":
        half = width // 2
        return np.concatenate([np.full(half, 1.0), np.zeros(width - 2 * half), np.full(half, -1.0)]) / half
    if kind == "spike":
        u = np.linspace(-1, 1, width)
        k = np.exp(-0.5 * (u / 0.25) ** 2)
        return (k - k.mean()) / np.abs(k - k.mean()).sum()
    raise ValueError(f"unknown kernel {kind!r}; choose 'smooth', 'slope' or 'spike'")


class SignalFilter(widgets.VBox):
    """Sliders kernel width and stride, a kernel kind: the signal, the 1-D kernel and the 'valid'
    output (floor((n - f)/s) + 1 values)."""

    def __init__(self, signal, rate: int = 250, kind: str = "spike", width: int = 15, stride: int = 1):
        self.signal, self.rate = np.asarray(signal), rate
        self.width = widgets.IntSlider(value=width, min=3, max=61, step=2, description="kernel f",
                                       continuous_update=False, style={"description_width": "70px"})
        self.stride = widgets.IntSlider(value=stride, min=1, max=8, description="stride s",
                                        continuous_update=False, style={"description_width": "70px"})
        self.kind = widgets.ToggleButtons(options=["smooth", "slope", "spike"], value=kind)
        self.text = widgets.HTML()
        self.picture = _figure_image()
        for c in (self.width, self.stride, self.kind):
            c.observe(self._render, names="value")
        super().__init__([_row([self.width, self.stride]), self.kind, self.text, self.picture])
        self._render()

    def _render(self, _=None):
        f, s = self.width.value, self.stride.value
        w = filter_kernel(self.kind.value, f)
        out = conv1d(self.signal, w, s)
        n = len(self.signal)
        self.text.value = (f"<div>n = {n}, f = {f}, s = {s}: output length &lfloor;({n} &minus; {f}) / {s}"
                           f"&rfloor; + 1 = <b>{len(out)}</b></div>")
        fig = new_figure(7.4, 3.2, dpi=85)
        grid = fig.add_gridspec(2, 2, width_ratios=[6, 1])
        ax1 = fig.add_subplot(grid[0, 0])
        ax2 = fig.add_subplot(grid[1, 0], sharex=ax1)
        inset = fig.add_subplot(grid[0, 1])
        t = np.arange(n) / self.rate
        ax1.plot(t, self.signal, lw=0.8, color="0.2")
        ax1.set_ylabel("signal", fontsize=9)
        inset.stem(w, basefmt=" ", markerfmt=".")
        inset.set_xticks([])
        inset.set_yticks([])
        inset.set_title(f"kernel ({self.kind.value})", fontsize=8)
        centres = (np.arange(len(out)) * s + (f - 1) / 2) / self.rate
        ax2.plot(centres, out, lw=1, color="C3", marker="." if s > 2 else None, ms=3)
        ax2.set_ylabel("output", fontsize=9)
        ax2.set_xlabel("time (s)", fontsize=9)
        for ax in (ax1, ax2):
            ax.grid(alpha=0.3)
        self.picture.value = figure_to_png(fig)


def moving_ball_video(frames: int = 12, size: int = 24, radius: float = 3.0, speed: float = 1.5,
                      seed: int = 0) -> np.ndarray:
    """A tiny grey video of a bright ball moving right over a faint still pattern:
    (frames, size, size) floats in [0, 1]."""
    rng = np.random.default_rng(seed)
    background = 0.25 * (rng.random((size, size)) > 0.85)
    yy, xx = np.mgrid[:size, :size]
    out = np.empty((frames, size, size))
    for t in range(frames):
        cx = 3 + speed * t
        ball = ((yy - size / 2) ** 2 + (xx - cx) ** 2) <= radius ** 2
        out[t] = np.where(ball, 1.0, background)
    return out


__all__ = [
    "K_CHOICES", "P_CHOICES", "VGG16_STACK",
    "EigenfaceExplorer", "PatchExplorer", "RecognitionRisk", "SignalFilter", "StyleExplorer",
    "ThresholdExplorer", "TripletExplorer",
    "all_pairs", "classical_distances", "dlib_distances", "identity_sets", "pair_distances", "recognition_experiment",
    "roc_figure", "roc_points", "threshold_at_far", "verification_rates", "verification_table",
    "conv1d", "patch_border", "conv_output_shape", "content_cost", "crop_patch", "distance_matrix",
    "distance_matrix_figure", "drawn_people", "ecg_like_signal", "eigenfaces_figure", "embed_net",
    "faces_grid_figure", "false_match_probability", "filter_kernel", "gram", "init_embedding_net",
    "layer_style_cost", "moving_ball_video", "nst_cost", "pair_features", "pair_outcomes",
    "patch_photos", "pca_reconstruct", "per_comparison_rate_for", "portrait_chips", "random_triplets",
    "receptive_fields", "recognition_risk_figure", "top_activations", "train_triplet_net",
    "triplet_kinds", "triplet_losses",
]
