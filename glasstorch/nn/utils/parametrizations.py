"""nn.utils.parametrizations: orthogonal, weight_norm and spectral_norm as parametrizations (nn.utils.parametrize)."""
from __future__ import annotations

import math

import numpy as np

from ..._ops.creation import eye, from_numpy
from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad
from .. import functional as F
from ..modules.module import Module
from . import parametrize

__all__ = ["orthogonal", "weight_norm", "spectral_norm"]


def _norm_except_dim(v: Tensor, dim: int) -> Tensor:
    """The 2-norm of v over every dim but `dim`, shaped to broadcast against v (dim=-1: the whole tensor)."""
    if dim == -1:
        return v.norm()
    dims = tuple(d for d in range(v.dim()) if d != dim)
    return v.norm(2, dim=dims, keepdim=True) if dims else v.abs()


class _WeightNorm(Module):
    """weight = g * v / ||v|| (norms taken over every dim but `dim`), Salimans & Kingma (2016)."""

    def __init__(self, dim: int | None = 0) -> None:
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        return weight_v * (weight_g / _norm_except_dim(weight_v, self.dim))

    def right_inverse(self, weight: Tensor):
        return _norm_except_dim(weight, self.dim), weight


def weight_norm(module: Module, name: str = "weight", dim: int = 0) -> Module:
    """Reparametrize module.<name> as g * v / ||v||: parametrizations.<name>.original0 is g,
    original1 is v. State dicts of the older nn.utils.weight_norm (name_g, name_v) still load."""
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)

    def compat_hook(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs):
        g_key, v_key = f"{prefix}{name}_g", f"{prefix}{name}_v"
        if g_key in state_dict and v_key in state_dict:
            state_dict[f"{prefix}parametrizations.{name}.original0"] = state_dict.pop(g_key)
            state_dict[f"{prefix}parametrizations.{name}.original1"] = state_dict.pop(v_key)

    if hasattr(module, "_register_load_state_dict_pre_hook"):
        module._register_load_state_dict_pre_hook(compat_hook)
    return module


class _SpectralNorm(Module):
    """weight / sigma, sigma the largest singular value of weight (as a (size(dim), -1) matrix),
    estimated by power iteration: buffers _u, _v advance n_power_iterations steps per training forward."""

    def __init__(self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0, eps: float = 1e-12) -> None:
        super().__init__()
        ndim = weight.dim()
        if dim >= ndim or dim < -ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of [-{ndim}, {ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            weight_mat = self._reshape_weight_to_matrix(weight.detach())
            h, w = weight_mat.shape
            u = weight_mat.new_empty(h).normal_(0, 1)
            v = weight_mat.new_empty(w).normal_(0, 1)
            self.register_buffer("_u", F.normalize(u, dim=0, eps=self.eps))
            self.register_buffer("_v", F.normalize(v, dim=0, eps=self.eps))
            self._power_method(weight_mat, 15)

    def _reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        """weight with `dim` moved first and the rest flattened: (size(dim), -1)."""
        if self.dim != 0:
            weight = weight.permute(self.dim, *(d for d in range(weight.dim()) if d != self.dim))
        return weight.flatten(1)

    def _power_method(self, weight_mat: Tensor, n_power_iterations: int) -> None:
        """u <- normalize(W v), v <- normalize(W^T u), in place in the buffers (no graph)."""
        with no_grad():
            for _ in range(n_power_iterations):
                self._u.copy_(F.normalize(weight_mat.detach() @ self._v, dim=0, eps=self.eps))
                self._v.copy_(F.normalize(weight_mat.detach().T @ self._u, dim=0, eps=self.eps))

    def forward(self, weight: Tensor) -> Tensor:
        if weight.dim() == 1:
            return F.normalize(weight, dim=0, eps=self.eps)
        weight_mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(weight_mat, self.n_power_iterations)
        u, v = self._u.clone(), self._v.clone()  # copies: later power steps must not change saved values
        sigma = (u * (weight_mat @ v)).sum()
        return weight / sigma

    def right_inverse(self, value: Tensor) -> Tensor:
        return value


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1, eps: float = 1e-12,
                  dim: int | None = None) -> Module:
    """Divide module.<name> by its spectral norm (power iteration, Miyato et al., 2018); dim defaults to
    0, or 1 for transposed convolutions."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        from ..modules.conv import _ConvTransposeNd

        dim = 1 if isinstance(module, _ConvTransposeNd) else 0
    parametrize.register_parametrization(module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module


# ---- orthogonal ---------------------------------------------------------------------------------------
_ORTH_MAPS = ("matrix_exp", "cayley", "householder")


def _matrix_exp(a: Tensor) -> Tensor:
    """exp(a) for square (*, n, n) a from recorded matmuls (so it is differentiable): scaling by 2^-s
    until ||a||_1 <= 1/2, a degree-18 Taylor polynomial by Horner's rule (truncation < 1e-22), s squarings."""
    norm = float(a.detach().abs().sum(-2).max()) if a.numel() else 0.0
    s = max(0, math.ceil(math.log2(norm)) + 1) if norm > 0.5 else 0
    scaled = a / (2.0 ** s)
    ident = eye(a.shape[-1], dtype=a.dtype, device=a.device)
    out = ident
    for k in range(18, 0, -1):
        out = ident + (scaled @ out) / k
    for _ in range(s):
        out = out @ out
    return out


def _householder_product(v: Tensor, tau: Tensor) -> Tensor:
    """The first k columns of H_1 ... H_k, H_i = I - tau_i v_i v_i^T, for v (*, n, k) whose columns hold
    the reflectors below a unit diagonal (LAPACK's orgqr), from recorded ops. The k reflections are
    applied one after another, last first (each is a rank-one update of the whole (n, k) block)."""
    n, k = v.shape[-2], v.shape[-1]
    vecs = v.tril(-1) + eye(n, k, dtype=v.dtype, device=v.device)
    q = eye(n, k, dtype=v.dtype, device=v.device).expand(*v.shape)
    for i in range(k - 1, -1, -1):
        col = vecs[..., :, i:i + 1]  # (*, n, 1)
        q = q - (tau[..., i:i + 1].unsqueeze(-1) * col) @ (col.transpose(-2, -1) @ q)
    return q


def _qr_q(a: np.ndarray) -> np.ndarray:
    """Q of a = QR with diag(R) >= 0 (unique), for a tall (*, n, k) array."""
    q, r = np.linalg.qr(a)
    return q * np.sign(np.diagonal(r, axis1=-2, axis2=-1))[..., None, :]


class _Orthogonal(Module):
    """An orthogonal (*, n, k) matrix (orthonormal columns, or rows when n < k) from an unconstrained one:
    exp of a skew-symmetric matrix (matrix_exp), its Cayley transform, or a product of Householder
    reflections. With use_trivialization the result is multiplied by a fixed orthogonal buffer `base`
    (set by right_inverse), so training starts from the identity of the map."""

    def __init__(self, weight: Tensor, orthogonal_map: str, *, use_trivialization: bool = True) -> None:
        super().__init__()
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, x: Tensor) -> Tensor:
        n, k = x.shape[-2], x.shape[-1]
        transposed = n < k
        if transposed:
            x = x.transpose(-2, -1)
            n, k = k, n
        if self.orthogonal_map in ("matrix_exp", "cayley"):
            x = x.tril()
            if n != k:
                from ..._ops.creation import zeros
                from ..._ops.shape import cat

                x = cat([x, zeros(*x.shape[:-1], n - k, dtype=x.dtype, device=x.device)], -1)
            a = x - x.transpose(-2, -1)
            if self.orthogonal_map == "matrix_exp":
                q = _matrix_exp(a)
            else:
                from ... import linalg

                ident = eye(n, dtype=a.dtype, device=a.device)
                q = linalg.solve(ident - 0.5 * a, ident + 0.5 * a)
            if n != k:
                q = q[..., :k]
        else:
            a = x.tril(-1)
            tau = 2.0 / (1.0 + (a * a).sum(-2))
            q = _householder_product(a, tau)
            # PyTorch scales each column by the diagonal of x truncated to an integer (-1 from the
            # right_inverse below); it carries no gradient
            q = q * x.detach().diagonal(dim1=-2, dim2=-1).trunc().unsqueeze(-2)
        if getattr(self, "base", None) is not None:
            q = self.base @ q
        if transposed:
            q = q.transpose(-2, -1)
        return q

    def right_inverse(self, q: Tensor) -> Tensor:
        if q.shape != self.shape:
            raise ValueError(f"Expected a matrix or batch of matrices of shape {self.shape}. Got a tensor of shape "
                             f"{q.shape}.")
        with no_grad():
            q_init = q
            n, k = q.shape[-2], q.shape[-1]
            transpose = n < k
            if transpose:
                q = q.transpose(-2, -1)
                n, k = k, n
            a = q.detach().cpu().numpy().astype(np.float64, copy=False)
            if not hasattr(self, "base"):
                if self.orthogonal_map != "householder":
                    raise NotImplementedError("It is not possible to assign to the matrix exponential or the Cayley "
                                              "parametrizations when use_trivialization=False.")
                h, tau = np.linalg.qr(a, mode="raw")  # LAPACK geqrf: reflectors below R, transposed
                refl = np.swapaxes(h, -2, -1).copy()
                diag = np.diagonal(refl, axis1=-2, axis2=-1)
                sign = np.where(tau == 0.0, -np.sign(diag), np.sign(diag))
                idx = np.arange(k)
                refl[..., idx, idx] = sign
                out = from_numpy(np.swapaxes(refl, -2, -1) if transpose else refl).to(q_init.dtype)
                return out.to(q_init.device)
            if n == k:
                eps = 10.0 * n * float(np.finfo(q.detach().cpu().numpy().dtype).eps)
                if not np.allclose(np.swapaxes(a, -2, -1) @ a, np.eye(k), rtol=1e-5, atol=eps):
                    a = _qr_q(a)
            else:
                from ..._random import rng_of

                extra = rng_of(None).standard_normal(a.shape[:-2] + (n, n - k))
                a = _qr_q(np.concatenate([a, extra], axis=-1))
            self.base = from_numpy(a).to(q_init.dtype).to(q_init.device)
            neg_id = np.zeros(tuple(q_init.shape))
            idx = np.arange(min(q_init.shape[-2:]))
            neg_id[..., idx, idx] = -1.0
            return from_numpy(neg_id).to(q_init.dtype).to(q_init.device)


def orthogonal(module: Module, name: str = "weight", orthogonal_map: str | None = None, *,
               use_trivialization: bool = True) -> Module:
    """Keep module.<name> (a matrix or batch of them) orthogonal; the map defaults to matrix_exp for
    square matrices and householder otherwise."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.dim() < 2:
        raise ValueError(f"Expected a matrix or batch of matrices. Got a tensor of {weight.dim()} dimensions.")
    if orthogonal_map is None:
        orthogonal_map = "matrix_exp" if weight.shape[-2] == weight.shape[-1] else "householder"
    if orthogonal_map not in _ORTH_MAPS:
        raise ValueError(f'orthogonal_map has to be one of "matrix_exp", "cayley", "householder". Got: '
                         f"{orthogonal_map}")
    orth = _Orthogonal(weight, orthogonal_map, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module
