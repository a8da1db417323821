"""Attention and transformer layers, embeddings and bags, einsum errors, torch.compile, against PyTorch.

Modules are built in both libraries, PyTorch's state_dict is copied into glasstorch's, and the
outputs, attention weights and the gradients of every input and parameter are compared. Float64
is held to ~1e-10 (a few layers of products and LayerNorms: relative error grows by small factors
over the 1e-12 of a single op, never near 1e-10); float32 to the spec's ~1e-5 relative.
The element-wise rows for scaled_dot_product_attention and einsum are in optable_attention.py.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import glasstorch as G
from _compare import assert_same_error

LIBS = (G, torch)
TOL = {"float64": dict(rtol=1e-10, atol=1e-11), "float32": dict(rtol=1e-5, atol=2e-6)}


def _dtype(m, name: str):
    return getattr(m, name)


def copy_state(ours, theirs) -> None:
    """PyTorch's parameters and buffers into glasstorch's module (same keys, same order)."""
    state = theirs.state_dict()
    assert list(state) == list(ours.state_dict())
    for k, v in state.items():
        assert tuple(ours.state_dict()[k].shape) == tuple(v.shape), k
    ours.load_state_dict({k: G.from_numpy(v.detach().numpy().copy()) for k, v in state.items()})


def build_pair(make, dtype="float64", train=True):
    """make(m) in both libraries, glasstorch's with PyTorch's weights; warnings raised on the way must match."""
    built, said = [], []
    for m in LIBS:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            mod = make(m).to(_dtype(m, dtype))
        said.append([str(w.message) for w in caught])
        mod.train(train)
        built.append(mod)
    assert said[0] == said[1]
    copy_state(*built)
    return built


def _leaves(m, arrays, grad: bool):
    return [m.from_numpy(a.copy()).requires_grad_(grad and a.dtype.kind == "f") for a in arrays]


def _weighting(m, t):
    """A fixed, position-dependent weighting so every output element matters to the loss."""
    n = int(np.prod(tuple(t.shape)))
    return m.from_numpy(np.cos(np.arange(n) * 0.7).reshape(tuple(t.shape)).astype(str(t.dtype).split(".")[-1]))


def compare_modules(make, inputs, call, dtype="float64", train=True, grad=True):
    """Same outputs, input gradients and parameter gradients from call(module, *inputs, m) in both libraries."""
    mods = build_pair(make, dtype, train)
    results = []
    for m, mod in zip(LIBS, mods):
        xs = _leaves(m, [a.astype(dtype) if a.dtype.kind == "f" else a for a in inputs], grad)
        if grad:
            outs = call(mod, xs, m)
        else:
            with m.no_grad():
                outs = call(mod, xs, m)
        outs = [o for o in (outs if isinstance(outs, tuple) else (outs,)) if o is not None]
        got = [o.detach().numpy() for o in outs]
        if grad:
            sum((o * _weighting(m, o)).sum() for o in outs).backward()
            got += [x.grad.numpy() for x in xs if x.requires_grad]
            got += [p.grad.numpy() for p in mod.parameters()]
        results.append(got)
    ours, theirs = results
    assert len(ours) == len(theirs)
    for i, (a, b) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(a, b, err_msg=f"result {i}", **TOL[dtype])
    return ours, theirs


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


CAUSAL3 = np.triu(np.ones((3, 3), dtype=bool), 1)
PAD = np.array([[False, False, True, True], [False, False, False, True]])


# ---- MultiheadAttention ------------------------------------------------------------------------------
def _mha(**kw):
    return lambda m: m.nn.MultiheadAttention(**kw)


def _attend(**fwd):
    """forward(q, k, v) on the inputs (one input: self-attention; two: key is value), masks made in each library."""
    def call(mod, xs, m):
        q, k, v = (xs * 3)[:3] if len(xs) == 1 else (xs[0], xs[1], xs[1]) if len(xs) == 2 else xs
        masks = {name: m.from_numpy(a.copy()) for name, a in fwd.items() if isinstance(a, np.ndarray)}
        flags = {name: a for name, a in fwd.items() if not isinstance(a, np.ndarray)}
        return mod(q, k, v, **masks, **flags)
    return call


MHA_CASES = [
    ("self", dict(embed_dim=8, num_heads=2), [rand(3, 2, 8)], {}),
    ("no_weights", dict(embed_dim=8, num_heads=2), [rand(3, 2, 8)], dict(need_weights=False)),
    ("per_head_weights", dict(embed_dim=8, num_heads=2, batch_first=True), [rand(2, 3, 8), rand(2, 5, 8, seed=1)],
     dict(average_attn_weights=False)),
    ("kdim_vdim", dict(embed_dim=8, num_heads=4, kdim=3, vdim=5),
     [rand(3, 2, 8), rand(4, 2, 3, seed=1), rand(4, 2, 5, seed=2)], {}),
    ("bias_kv_zero_attn", dict(embed_dim=8, num_heads=2, add_bias_kv=True, add_zero_attn=True),
     [rand(3, 2, 8), rand(4, 2, 8, seed=1)], dict(key_padding_mask=PAD)),
    ("bias_kv_sdpa", dict(embed_dim=8, num_heads=2, add_bias_kv=True, add_zero_attn=True),
     [rand(3, 2, 8), rand(4, 2, 8, seed=1)], dict(key_padding_mask=PAD, need_weights=False)),
    ("no_bias_unbatched", dict(embed_dim=8, num_heads=2, bias=False),
     [rand(3, 8), rand(4, 8, seed=1), rand(4, 8, seed=2)], {}),
    ("bool_causal", dict(embed_dim=8, num_heads=2), [rand(3, 2, 8)], dict(attn_mask=CAUSAL3)),
    ("is_causal_sdpa", dict(embed_dim=8, num_heads=2), [rand(3, 2, 8)],
     dict(attn_mask=CAUSAL3, is_causal=True, need_weights=False)),
    ("float_masks", dict(embed_dim=8, num_heads=2, batch_first=True), [rand(2, 3, 8)],
     dict(attn_mask=np.where(CAUSAL3, -np.inf, 0.0), key_padding_mask=np.array([[0, 0, -1.0], [0, -2.0, 0]]))),
    ("mask_3d", dict(embed_dim=8, num_heads=2, batch_first=True), [rand(2, 3, 8)],
     dict(attn_mask=rand(4, 3, 3, seed=5), need_weights=False)),
    ("padding_sdpa", dict(embed_dim=8, num_heads=2, batch_first=True), [rand(2, 3, 8), rand(2, 4, 8, seed=1)],
     dict(key_padding_mask=PAD, need_weights=False)),
]


@pytest.mark.parametrize("name, kw, inputs, fwd", MHA_CASES, ids=[c[0] for c in MHA_CASES])
def test_multihead_attention_matches_torch(name, kw, inputs, fwd):
    compare_modules(_mha(**kw), inputs, _attend(**fwd))


@pytest.mark.parametrize("train", [True, False])
def test_multihead_attention_float32_and_eval(train):
    """float32; in eval mode (dropout off; PyTorch may take its fused fast path: the same values)."""
    for grad in (True, False):
        compare_modules(_mha(embed_dim=8, num_heads=2, dropout=0.3 * (not train), batch_first=True), [rand(2, 3, 8)],
                        _attend(key_padding_mask=np.array([[False, False, True], [False, False, False]])),
                        dtype="float32", train=train, grad=grad)


def test_multihead_attention_parameters_and_init():
    g = G.nn.MultiheadAttention(8, 2, kdim=3, vdim=5, add_bias_kv=True)
    t = torch.nn.MultiheadAttention(8, 2, kdim=3, vdim=5, add_bias_kv=True)
    assert [(k, tuple(v.shape)) for k, v in g.named_parameters()] == \
        [(k, tuple(v.shape)) for k, v in t.named_parameters()]
    assert repr(g) == repr(t)
    assert type(g.out_proj).__name__ == "NonDynamicallyQuantizableLinear" and isinstance(g.out_proj, G.nn.Linear)
    g = G.nn.MultiheadAttention(64, 4)
    assert g.in_proj_weight.shape == (192, 64) and g.q_proj_weight is None
    bound = np.sqrt(6.0 / (192 + 64))  # xavier_uniform_ on the packed (3E, E) weight
    w = g.in_proj_weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert not g.in_proj_bias.detach().numpy().any() and not g.out_proj.bias.detach().numpy().any()
    assert G.nn.MultiheadAttention(8, 2, bias=False).out_proj.bias is None


def test_multihead_attention_errors():
    assert_same_error(lambda m: m.nn.MultiheadAttention(5, 2))
    assert_same_error(lambda m: m.nn.MultiheadAttention(0, 2))
    x3, x2, x4 = rand(3, 2, 8), rand(3, 8), rand(1, 3, 2, 8)

    def attend(**kw):
        def run(m, *xs):
            torch.manual_seed(0)
            mod = m.nn.MultiheadAttention(8, 2).double()
            q = xs[0]
            k = xs[1] if len(xs) > 1 else q
            masks = {name: m.from_numpy(a) for name, a in kw.items() if isinstance(a, np.ndarray)}
            return mod(q, k, k, **masks, **{n: a for n, a in kw.items() if not isinstance(a, np.ndarray)})
        return run

    assert_same_error(attend(), [x4])
    assert_same_error(attend(), [x3, x2])
    assert_same_error(attend(attn_mask=np.zeros((2, 3))), [x3])
    assert_same_error(attend(attn_mask=np.zeros((3, 3, 3))), [x3])
    assert_same_error(attend(attn_mask=np.zeros((3, 3), dtype=np.int64)), [x3])
    assert_same_error(attend(key_padding_mask=np.zeros((2, 4), dtype=bool)), [x3])
    assert_same_error(attend(key_padding_mask=np.zeros(3, dtype=bool)), [x3])
    assert_same_error(attend(is_causal=True), [x3])
    assert_same_error(lambda m, q: m.nn.functional.multi_head_attention_forward(
        q, q, q, 6, 2, None, None, None, None, False, 0.0, None, None), [x3])


def test_mismatched_mask_types_warn_like_torch():
    said = []
    for m, mod in zip(LIBS, build_pair(_mha(embed_dim=8, num_heads=2))):
        x = m.from_numpy(rand(3, 2, 8))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            mod(x, x, x, key_padding_mask=m.from_numpy(np.zeros((2, 3), dtype=bool)),
                attn_mask=m.from_numpy(np.zeros((3, 3))))
        said.append([(w.category, str(w.message)) for w in caught])
    assert said[0] == said[1] and said[0]


# ---- scaled_dot_product_attention: what the op table cannot say -----------------------------------------
def test_sdpa_errors():
    q, k, v = rand(2, 3, 4), rand(2, 5, 4), rand(2, 5, 6)

    def f(**kw):
        return lambda m, a, b, c: m.nn.functional.scaled_dot_product_attention(a, b, c, **kw)

    assert_same_error(f(), [q, k.astype(np.float32), v])
    assert_same_error(f(attn_mask=None), [q, k[..., :3], v])
    assert_same_error(f(), [q, k, v[:, :4]])
    assert_same_error(lambda m, a, b, c: m.nn.functional.scaled_dot_product_attention(
        a, b, c, attn_mask=m.ones(3, 5, dtype=m.bool), is_causal=True), [q, k, v])
    assert_same_error(lambda m, a, b, c: m.nn.functional.scaled_dot_product_attention(
        a, b, c, attn_mask=m.ones(3, 5, dtype=m.int64)), [q, k, v])
    assert_same_error(f(enable_gqa=True), [rand(1, 3, 3, 8), rand(1, 2, 5, 8), rand(1, 2, 5, 8)])


def test_sdpa_dropout():
    """Dropout: zeroed attention weights, the rest scaled by 1/(1-p); reproducible from the seed."""
    q, k, v = (G.from_numpy(rand(2, 4, 8, seed=s)) for s in range(3))
    sdpa = G.nn.functional.scaled_dot_product_attention
    G.manual_seed(3)
    a = sdpa(q, k, v, dropout_p=0.5)
    G.manual_seed(3)
    b = sdpa(q, k, v, dropout_p=0.5)
    assert np.array_equal(a.numpy(), b.numpy())
    assert not np.allclose(a.numpy(), sdpa(q, k, v).numpy())
    assert not sdpa(q, k, v, dropout_p=1.0).numpy().any()
    # averaged over many draws the dropped-out attention is the plain one (inverted dropout is unbiased)
    many = sum(sdpa(q, k, v, dropout_p=0.3).numpy() for _ in range(400)) / 400
    np.testing.assert_allclose(many, sdpa(q, k, v).numpy(), atol=0.15)


# ---- transformer layers -------------------------------------------------------------------------------
BASE = dict(d_model=8, nhead=2, dim_feedforward=16, dropout=0.0)
CAUSAL4 = np.triu(np.full((4, 4), -np.inf), 1)


def _encoder(**kw):
    return lambda m: m.nn.TransformerEncoder(m.nn.TransformerEncoderLayer(**kw), 2,
                                             norm=m.nn.LayerNorm(kw["d_model"]))


def _decoder(**kw):
    return lambda m: m.nn.TransformerDecoder(m.nn.TransformerDecoderLayer(**kw), 2)


def _transformer(**kw):
    return lambda m: m.nn.Transformer(**kw, num_encoder_layers=2, num_decoder_layers=1)


def _forward(**fwd):
    def call(mod, xs, m):
        masks = {name: m.from_numpy(a.copy()) for name, a in fwd.items() if isinstance(a, np.ndarray)}
        return mod(*xs, **masks, **{n: a for n, a in fwd.items() if not isinstance(a, np.ndarray)})
    return call


TRANSFORMER_CASES = [
    ("encoder", _encoder(**BASE), [rand(4, 2, 8)], {}),
    ("encoder_gelu_norm_first", _encoder(**BASE, activation="gelu", norm_first=True), [rand(4, 2, 8)],
     dict(mask=CAUSAL4)),
    ("encoder_causal_flag", _encoder(**BASE, batch_first=True), [rand(2, 4, 8)], dict(mask=CAUSAL4, is_causal=True)),
    ("encoder_padding", _encoder(**BASE, batch_first=True), [rand(2, 4, 8)], dict(src_key_padding_mask=PAD)),
    ("encoder_callable_activation", lambda m: m.nn.TransformerEncoder(
        m.nn.TransformerEncoderLayer(**BASE, activation=m.nn.functional.silu), 1), [rand(4, 2, 8)], {}),
    ("decoder_no_bias", _decoder(**BASE, bias=False), [rand(4, 2, 8), rand(3, 2, 8, seed=1)],
     dict(tgt_mask=CAUSAL4, memory_key_padding_mask=np.array([[False, False, True], [False, False, False]]))),
    ("decoder_bool_masks", _decoder(**BASE, batch_first=True), [rand(2, 4, 8), rand(2, 3, 8, seed=1)],
     dict(tgt_mask=np.triu(np.ones((4, 4), dtype=bool), 1), tgt_key_padding_mask=PAD,
          memory_mask=np.array([[False, True, False]] * 4))),
    ("transformer", _transformer(**BASE, batch_first=True), [rand(2, 3, 8), rand(2, 4, 8, seed=1)],
     dict(tgt_mask=CAUSAL4, src_key_padding_mask=np.array([[False, False, True], [False, False, False]]))),
    ("transformer_unbatched", _transformer(**BASE, norm_first=True, activation="gelu"),
     [rand(3, 8), rand(4, 8, seed=1)], dict(tgt_mask=CAUSAL4, tgt_is_causal=True)),
]


@pytest.mark.parametrize("name, make, inputs, fwd", TRANSFORMER_CASES, ids=[c[0] for c in TRANSFORMER_CASES])
def test_transformer_layers_match_torch(name, make, inputs, fwd):
    compare_modules(make, inputs, _forward(**fwd))


def test_transformer_float32():
    # three layers of float32 products and LayerNorms: the largest difference from PyTorch measured
    # here is under a fifth of the spec's ~1e-5 relative (BLAS blocking differs, not the formulas)
    compare_modules(_transformer(**BASE), [rand(3, 2, 8), rand(4, 2, 8, seed=1)],
                    _forward(tgt_mask=CAUSAL4), dtype="float32")


@pytest.mark.parametrize("grad", [True, False])
def test_transformer_eval_mode(grad):
    """Eval mode with PyTorch's default dropout: off. Without gradients PyTorch runs its fast paths."""
    compare_modules(_transformer(d_model=8, nhead=2, dim_feedforward=16, batch_first=True),
                    [rand(2, 3, 8), rand(2, 4, 8, seed=1)], _forward(tgt_mask=CAUSAL4), train=False, grad=grad)


@pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors")
def test_encoder_nested_tensor_path_zeroes_padding():
    """PyTorch's inference path packs padded batches as nested tensors: padded positions come out as zeros."""
    ours, theirs = compare_modules(_encoder(**BASE, batch_first=True), [rand(2, 4, 8)],
                                   _forward(src_key_padding_mask=PAD), train=False, grad=False)
    ln_bias = 0.0  # the final LayerNorm of a zero vector is its bias, zero after copying PyTorch's init
    assert np.all(theirs[0][PAD] == ln_bias)  # the case this test exists for really happens in PyTorch


def test_transformer_repr_and_state_dict():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pairs = [(m.nn.Transformer(8, 2, 1, 1, 16), m) for m in LIBS]
    (g, _), (t, _) = pairs
    assert repr(g) == repr(t)
    assert [(k, tuple(v.shape)) for k, v in g.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in t.state_dict().items()]
    layer = G.nn.TransformerEncoderLayer(8, 2, activation=G.nn.GELU())
    assert repr(layer) == repr(torch.nn.TransformerEncoderLayer(8, 2, activation=torch.nn.GELU()))
    assert layer.activation_relu_or_gelu == 2


def test_generate_square_subsequent_mask():
    for m in LIBS:
        assert m.nn.Transformer.generate_square_subsequent_mask(4).dtype == m.float32
    ours = G.nn.Transformer.generate_square_subsequent_mask(4, dtype=G.float64)
    theirs = torch.nn.Transformer.generate_square_subsequent_mask(4, dtype=torch.float64)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_transformer_errors():
    assert_same_error(lambda m: m.nn.TransformerEncoderLayer(8, 2, activation="tanh"))

    def run(m, src, tgt):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return m.nn.Transformer(8, 2, 1, 1, 16).double()(src, tgt)

    assert_same_error(run, [rand(3, 2, 8), rand(4, 3, 8)])
    assert_same_error(run, [rand(3, 2, 8), rand(4, 2, 6)])


def test_clip_grad_norm_over_a_transformer():
    """clip_grad_norm_ over all of a model's parameters: the same total norm and clipped gradients."""
    mods = build_pair(_transformer(**BASE))
    norms, grads = [], []
    for m, mod in zip(LIBS, mods):
        out = mod(m.from_numpy(rand(3, 2, 8)), m.from_numpy(rand(4, 2, 8, seed=1)))
        (out * _weighting(m, out)).sum().backward()
        norms.append(m.nn.utils.clip_grad_norm_(mod.parameters(), 0.5).item())
        grads.append([p.grad.numpy() for p in mod.parameters()])
    assert norms[0] > 0.5  # so that clipping happens
    np.testing.assert_allclose(norms[0], norms[1], rtol=1e-10)
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, **TOL["float64"])


# ---- Embedding and EmbeddingBag -----------------------------------------------------------------------
WEIGHT = rand(7, 3, seed=3)
INDEX = np.array([[0, 2, 2, 5], [1, 2, 0, 0]])


@pytest.mark.parametrize("kw", [{}, dict(padding_idx=2), dict(padding_idx=-1), dict(max_norm=1.0),
                                dict(max_norm=0.5, norm_type=1.0), dict(scale_grad_by_freq=True, padding_idx=0)],
                         ids=["plain", "padding", "padding_negative", "max_norm", "max_norm_l1", "freq"])
def test_embedding_options(kw):
    results = []
    for m in LIBS:
        emb = m.nn.Embedding.from_pretrained(m.from_numpy(WEIGHT.copy()), freeze=False, **kw)
        out = emb(m.from_numpy(INDEX.copy()))
        (out * _weighting(m, out)).sum().backward()
        # max_norm renormalises the looked-up rows of the weight in place
        results.append([out.detach().numpy(), emb.weight.grad.numpy(), emb.weight.detach().numpy()])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, **TOL["float64"])


def test_embedding_padding_row_and_freeze():
    for m in LIBS:
        emb = m.nn.Embedding(5, 3, padding_idx=1)
        assert not emb.weight[1].detach().numpy().any()
        assert m.nn.Embedding.from_pretrained(m.zeros(2, 2)).weight.requires_grad is False
    assert repr(G.nn.Embedding(5, 3, padding_idx=1, max_norm=2.0)) == \
        repr(torch.nn.Embedding(5, 3, padding_idx=1, max_norm=2.0))


FLAT = np.array([0, 2, 2, 5, 1, 3, 6, 0, 4])
OFFSETS = np.array([0, 2, 2, 6])  # the second bag is empty


def _bag(kw, inputs, psw=None):
    results = []
    for m in LIBS:
        bag = m.nn.EmbeddingBag.from_pretrained(m.from_numpy(WEIGHT.copy()), freeze=False, **kw)
        args = [m.from_numpy(a.copy()) for a in inputs]
        weights = None
        if psw is not None:
            weights = m.from_numpy(psw.copy()).requires_grad_()
            args += [None] * (2 - len(args)) + [weights]
        out = bag(*args)
        (out * _weighting(m, out)).sum().backward()
        results.append([out.detach().numpy(), bag.weight.grad.numpy()] + ([weights.grad.numpy()] if psw is not None
                                                                           else []))
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, **TOL["float64"])


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_modes(mode):
    _bag(dict(mode=mode), [FLAT, OFFSETS])
    _bag(dict(mode=mode, padding_idx=2), [FLAT, OFFSETS])
    _bag(dict(mode=mode, padding_idx=0), [FLAT.reshape(3, 3)])
    _bag(dict(mode=mode, include_last_offset=True), [FLAT, np.array([0, 2, 2, 6, 9])])


def test_embedding_bag_options():
    _bag(dict(mode="sum"), [FLAT, OFFSETS], psw=rand(9, seed=4))
    _bag(dict(mode="sum", padding_idx=6), [FLAT.reshape(3, 3)], psw=rand(3, 3, seed=5))
    _bag(dict(mode="mean", max_norm=1.0), [FLAT, OFFSETS])
    assert repr(G.nn.EmbeddingBag(5, 3, mode="sum", padding_idx=-1, max_norm=2.0)) == \
        repr(torch.nn.EmbeddingBag(5, 3, mode="sum", padding_idx=-1, max_norm=2.0))


def test_embedding_bag_errors():
    w = rand(7, 3)

    def bag(inp, offsets=None, **kw):
        def f(m, weight):
            off = None if offsets is None else m.from_numpy(offsets)
            return m.nn.functional.embedding_bag(m.from_numpy(inp), weight, off, **kw)
        return f

    # the message ends with the offsets' class, torch.Tensor there and glasstorch's Tensor here
    assert_same_error(bag(FLAT.reshape(3, 3), OFFSETS), [w], message=False, contains="offsets has to be None")
    assert_same_error(bag(FLAT), [w])
    assert_same_error(bag(FLAT, OFFSETS, mode="median"), [w])
    assert_same_error(bag(FLAT, OFFSETS, mode="max", scale_grad_by_freq=True), [w])
    assert_same_error(lambda m, weight, p: m.nn.functional.embedding_bag(
        m.from_numpy(FLAT), weight, m.from_numpy(OFFSETS), mode="mean", per_sample_weights=p), [w, rand(9)])
    assert_same_error(lambda m, weight, p: m.nn.functional.embedding_bag(
        m.from_numpy(FLAT), weight, m.from_numpy(OFFSETS), mode="sum", per_sample_weights=p), [w, rand(8)])


# ---- einsum errors --------------------------------------------------------------------------------------
@pytest.mark.parametrize("equation, shapes", [
    ("ij,jk->ik", [(2, 3)]), ("ijk,jk->ik", [(2, 3), (3, 4)]), ("ij,jk->ik", [(2, 3), (2, 3)]),
    ("ij,jk->iz", [(2, 3), (3, 4)]), ("ij,jk->ii", [(2, 3), (3, 4)]), ("i.j,jk", [(2, 3), (3, 4)]),
    ("i1", [(2, 3)]), ("ii", [(2, 3)]), ("ij", [(2, 3), (3, 4)]), ("...i...->i", [(2, 3)]), ("ij->i..", [(2, 3)]),
    ("ijk...->i", [(2, 3)]),
])
def test_einsum_errors(equation, shapes):
    assert_same_error(lambda m, *xs: m.einsum(equation, *xs), [rand(*s) for s in shapes])


def test_einsum_dtypes():
    a, b = np.arange(6).reshape(2, 3), np.arange(12).reshape(3, 4)
    ours, theirs = G.einsum("ij,jk", G.from_numpy(a), G.from_numpy(b)), torch.einsum("ij,jk", *map(torch.from_numpy,
                                                                                                  (a, b)))
    assert ours.dtype == G.int64 and ours.tolist() == theirs.tolist()
    assert_same_error(lambda m, x, y: m.einsum("ij,jk", x, y.to(m.float32)), [rand(2, 3), rand(3, 4)])


# ---- torch.nn.attention ----------------------------------------------------------------------------------
def test_sdpa_kernel_choice_is_accepted():
    """Programs that pick a kernel with torch.nn.attention.sdpa_kernel run unchanged, with the same values."""
    q, k, v = rand(2, 3, 4), rand(2, 5, 4, seed=1), rand(2, 5, 6, seed=2)
    outs = []
    for m in LIBS:
        attention = m.nn.attention
        with attention.sdpa_kernel([attention.SDPBackend.FLASH_ATTENTION, attention.SDPBackend.MATH]):
            outs.append(m.nn.functional.scaled_dot_product_attention(*map(m.from_numpy, (q, k, v))).numpy())
        assert str(attention.SDPBackend.MATH) == "SDPBackend.MATH" and int(attention.SDPBackend.CUDNN_ATTENTION) == 3
    np.testing.assert_allclose(outs[0], outs[1], **TOL["float64"])


# ---- torch.compile -----------------------------------------------------------------------------------
def test_compile_is_a_pass_through():
    model = G.nn.Linear(3, 2)
    assert G.compile(model) is model
    assert G.compile(model, mode="reduce-overhead", fullgraph=True, dynamic=False, backend="inductor") is model

    def f(x):
        return x * 2

    assert G.compile(f) is f

    @G.compile
    def g(x):
        return x + 1

    @G.compile(mode="max-autotune")
    def h(x):
        return x - 1

    x = G.ones(2)
    assert g(x).tolist() == [2.0, 2.0] and h(x).tolist() == [0.0, 0.0]
    # torch's own check (torch.compile(3) raises it too, but only after importing dynamo: seconds)
    with pytest.raises(AssertionError, match=r"^A callable function is expected, but <class 'int'> is provided\.$"):
        G.compile(3)


# ---- a small language model, written as a PyTorch program ---------------------------------------------
def _tiny_lm(m):
    nn = m.nn

    class TinyLM(nn.Module):
        def __init__(self, vocab=11, d=8):
            super().__init__()
            self.embed = nn.Embedding(vocab, d, padding_idx=0)
            self.pos = nn.Parameter(m.zeros(6, d))
            layer = nn.TransformerEncoderLayer(d, 2, 16, dropout=0.0, batch_first=True, norm_first=True)
            self.blocks = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
            self.head = nn.Linear(d, vocab)

        def forward(self, tokens):
            n = tokens.shape[1]
            mask = nn.Transformer.generate_square_subsequent_mask(n, dtype=self.pos.dtype)
            h = self.embed(tokens) + self.pos[:n]
            return self.head(self.blocks(h, mask=mask, is_causal=True))

    return TinyLM()


def test_tiny_language_model_trains_like_torch():
    """Embedding, causal encoder, AdamW, clip_grad_norm_ and torch.compile: the same losses for 3 steps."""
    tokens = np.random.default_rng(1).integers(0, 11, (3, 6))
    mods = build_pair(_tiny_lm)
    losses = []
    for m, model in zip(LIBS, mods):
        model = m.compile(model) if m is G else model  # torch's compiled module would need a C++ toolchain
        opt = m.optim.AdamW(model.parameters(), lr=1e-2)
        x, y = m.from_numpy(tokens[:, :-1].copy()), m.from_numpy(tokens[:, 1:].copy())
        seen = []
        for _ in range(3):
            logits = model(x)
            loss = m.nn.functional.cross_entropy(logits.reshape(-1, 11), y.reshape(-1), ignore_index=0)
            opt.zero_grad()
            loss.backward()
            m.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            seen.append(loss.item())
        losses.append(seen)
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-9)
    assert losses[0][2] < losses[0][0]
