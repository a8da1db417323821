"""glasstorch.utils.data against torch.utils.data: datasets, samplers, collation, DataLoader
(single- and multi-process)."""
import collections
import gc
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest
import torch
import torch.utils.data as tdata

import glasstorch as gt
import glasstorch.utils.data as gdata

Pair = collections.namedtuple("Pair", "a b")


# ---- helpers ------------------------------------------------------------------------------------

def assert_same(ours, theirs, path="batch"):
    """Same container types all the way down, tensors with the same dtype, shape and values."""
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, gt.Tensor), f"{path}: {type(ours)} is not a Tensor"
        assert repr(ours.dtype) == repr(theirs.dtype), f"{path}: {ours.dtype} != {theirs.dtype}"
        assert tuple(ours.shape) == tuple(theirs.shape), f"{path}: {tuple(ours.shape)} != {tuple(theirs.shape)}"
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy(), err_msg=path)
        return
    assert type(ours) is type(theirs), f"{path}: {type(ours).__name__} != {type(theirs).__name__}"
    if isinstance(theirs, dict):
        assert list(ours) == list(theirs), path
        for k in theirs:
            assert_same(ours[k], theirs[k], f"{path}[{k!r}]")
    elif isinstance(theirs, (list, tuple)):
        assert len(ours) == len(theirs), path
        for i, (o, t) in enumerate(zip(ours, theirs)):
            assert_same(o, t, f"{path}[{i}]")
    elif isinstance(theirs, np.ndarray):
        np.testing.assert_array_equal(ours, theirs, err_msg=path)
    else:
        assert ours == theirs, path


def both_raise(fn_ours, fn_theirs):
    """Run both; they must raise the same exception class with the same message."""
    with pytest.raises(Exception) as theirs:
        fn_theirs()
    with pytest.raises(theirs.type) as ours:
        fn_ours()
    assert str(ours.value) == str(theirs.value)


def tensor_pair(n=10):
    x = np.arange(n * 2, dtype=np.float32).reshape(n, 2)
    y = np.arange(n, dtype=np.int64) * 10
    ours = gdata.TensorDataset(gt.from_numpy(x.copy()), gt.from_numpy(y.copy()))
    theirs = tdata.TensorDataset(torch.from_numpy(x.copy()), torch.from_numpy(y.copy()))
    return ours, theirs


def flat_indices(loader):
    """All y values (= 10 * index) of one epoch over a tensor_pair dataset, as sample indices."""
    return [int(v) // 10 for _, yb in loader for v in yb.tolist()]


# ---- sequential loading against torch -----------------------------------------------------------

@pytest.mark.parametrize("batch_size,drop_last", [(1, False), (3, False), (3, True), (4, False), (5, True),
                                                  (None, False), (20, False), (20, True)])
def test_tensor_dataset_batches_match_torch(batch_size, drop_last):
    ours, theirs = tensor_pair(10)
    ol = gdata.DataLoader(ours, batch_size=batch_size, drop_last=drop_last)
    tl = tdata.DataLoader(theirs, batch_size=batch_size, drop_last=drop_last)
    assert len(ol) == len(tl)
    ob, tb = list(ol), list(tl)
    assert len(ob) == len(tb)
    assert_same(ob, tb)
    assert len(ob) == 0 or isinstance(ob[0], list)  # torch gives [x_batch, y_batch], not a tuple


SAMPLES = {
    "dicts": [{"x": np.float32(i), "name": f"s{i}", "v": [i, i + 0.5]} for i in range(5)],
    "tuples": [(i, float(i) / 2, f"s{i}", i % 2 == 0) for i in range(5)],
    "namedtuples": [Pair(i, np.arange(3) + i) for i in range(5)],
    "numpy": [np.full((2, 2), i, dtype=np.float64) for i in range(5)],
    "numpy_scalars": [np.int32(i) for i in range(5)],
    "lists": [[i, [i, -i]] for i in range(5)],
    "floats": [0.5 * i for i in range(5)],
    "bools": [i % 2 == 0 for i in range(5)],
    "strings": [f"s{i}" for i in range(5)],
    "bytes": [b"ab", b"cd", b"ef", b"gh", b"ij"],
}


@pytest.mark.parametrize("kind", sorted(SAMPLES))
@pytest.mark.parametrize("batch_size", [2, None])
def test_list_dataset_batches_match_torch(kind, batch_size):
    """A plain list is a map-style dataset; default_collate / default_convert as torch."""
    samples = SAMPLES[kind]
    ob = list(gdata.DataLoader(samples, batch_size=batch_size))
    tb = list(tdata.DataLoader(samples, batch_size=batch_size))
    assert_same(ob, tb)


def test_default_collate_of_tensors_and_mixed_numbers_match_torch():
    for batch in ([gt.ones(2, 3) * i for i in range(4)], [1, 2.5], [True, 2]):
        theirs = tdata.default_collate([torch.from_numpy(b.numpy()) if isinstance(b, gt.Tensor) else b
                                        for b in batch])
        assert_same(gdata.default_collate(batch), theirs)


@pytest.mark.parametrize("batch", [
    [[1, 2], [3]],                              # ragged sequences
    [object(), object()],                       # unsupported type
    [np.array(["a"]), np.array(["b"])],         # string arrays
])
def test_default_collate_errors_match_torch(batch):
    both_raise(lambda: gdata.default_collate(batch), lambda: tdata.default_collate(batch))


def test_default_convert_matches_torch():
    for data in [(1, np.arange(3)), {"a": (np.float32(2), "s")}, Pair(np.zeros(2), 3), np.array(["x"]), 5]:
        assert_same(gdata.default_convert(data), tdata.default_convert(data))


# ---- datasets -----------------------------------------------------------------------------------

def test_tensor_dataset_size_mismatch():
    both_raise(lambda: gdata.TensorDataset(gt.zeros(3), gt.zeros(4)),
               lambda: tdata.TensorDataset(torch.zeros(3), torch.zeros(4)))


def test_subset_concat_stack_datasets():
    ours, theirs = tensor_pair(6)
    assert_same(gdata.Subset(ours, [4, 1])[1], tdata.Subset(theirs, [4, 1])[1])
    cat_o, cat_t = gdata.ConcatDataset([ours, ours]), tdata.ConcatDataset([theirs, theirs])
    assert len(cat_o) == len(cat_t) == 12 and cat_o.cumulative_sizes == cat_t.cumulative_sizes
    for i in (0, 5, 6, 11, -1, -12):
        assert_same(cat_o[i], cat_t[i])
    assert len(ours + ours) == 12
    both_raise(lambda: cat_o[-13], lambda: cat_t[-13])
    both_raise(lambda: gdata.ConcatDataset([]), lambda: tdata.ConcatDataset([]))
    stack_o = gdata.StackDataset(a=list(range(6)), b=ours)
    stack_t = tdata.StackDataset(a=list(range(6)), b=theirs)
    assert_same(list(gdata.DataLoader(stack_o, batch_size=4)), list(tdata.DataLoader(stack_t, batch_size=4)))
    both_raise(lambda: gdata.StackDataset([1], [1, 2]), lambda: tdata.StackDataset([1], [1, 2]))


def test_random_split_sizes_disjoint_and_reproducible():
    data = list(range(11))
    parts = gdata.random_split(data, [0.5, 0.3, 0.2], generator=gt.Generator().manual_seed(1))
    torch_parts = tdata.random_split(data, [0.5, 0.3, 0.2], generator=torch.Generator().manual_seed(1))
    assert [len(p) for p in parts] == [len(p) for p in torch_parts] == [6, 3, 2]
    items = [x for p in parts for x in p]
    assert sorted(items) == data  # disjoint and covering
    again = gdata.random_split(data, [0.5, 0.3, 0.2], generator=gt.Generator().manual_seed(1))
    assert [list(p) for p in again] == [list(p) for p in parts]
    gt.manual_seed(5)
    a = [list(p) for p in gdata.random_split(data, [4, 7])]
    gt.manual_seed(5)
    assert [list(p) for p in gdata.random_split(data, [4, 7])] == a
    assert [len(p) for p in a] == [4, 7]
    assert sorted(a[0] + a[1]) == data
    both_raise(lambda: gdata.random_split(data, [5, 5]), lambda: tdata.random_split(data, [5, 5]))
    both_raise(lambda: gdata.random_split(data, [1.5, -0.5]), lambda: tdata.random_split(data, [1.5, -0.5]))


# ---- samplers -----------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [
    lambda m: m.RandomSampler(range(3), replacement=1),
    lambda m: m.RandomSampler(range(3), num_samples=0),
    lambda m: m.RandomSampler(range(3), num_samples=2.0),
    lambda m: m.BatchSampler(range(3), 0, False),
    lambda m: m.BatchSampler(range(3), True, False),
    lambda m: m.BatchSampler(range(3), 2.0, False),
    lambda m: m.BatchSampler(range(3), 2, 1),
    lambda m: m.WeightedRandomSampler([1.0, 2.0], 0),
    lambda m: m.WeightedRandomSampler([1.0, 2.0], 2, replacement=0),
    lambda m: m.WeightedRandomSampler([[1.0, 2.0]], 2),
    lambda m: m.Sampler(range(3)),
])
def test_sampler_argument_errors_match_torch(make):
    both_raise(lambda: make(gdata), lambda: make(tdata))


def test_samplers_produce_valid_indices():
    assert list(gdata.SequentialSampler(range(4))) == [0, 1, 2, 3]
    for drop_last in (False, True):
        ours = gdata.BatchSampler(gdata.SequentialSampler(range(10)), 3, drop_last)
        theirs = tdata.BatchSampler(tdata.SequentialSampler(range(10)), 3, drop_last)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)
    g = gt.Generator().manual_seed(0)
    perm = list(gdata.RandomSampler(range(7), generator=g))
    assert sorted(perm) == list(range(7))
    long = list(gdata.RandomSampler(range(4), num_samples=10, generator=g))
    assert len(long) == 10 and sorted(long[:4]) == sorted(long[4:8]) == [0, 1, 2, 3] and len(set(long[8:])) == 2
    draws = list(gdata.RandomSampler(range(3), replacement=True, num_samples=50, generator=g))
    assert len(draws) == 50 and set(draws) <= {0, 1, 2}
    sub = list(gdata.SubsetRandomSampler([10, 20, 30], generator=g))
    assert sorted(sub) == [10, 20, 30]
    weighted = list(gdata.WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 40, generator=g))
    assert len(weighted) == 40 and set(weighted) == {1, 3}


# ---- shuffling ----------------------------------------------------------------------------------

def test_shuffle_is_a_fresh_permutation_each_epoch_and_follows_manual_seed():
    ours, _ = tensor_pair(40)
    loader = gdata.DataLoader(ours, batch_size=7, shuffle=True)
    gt.manual_seed(123)
    epochs = [flat_indices(loader) for _ in range(3)]
    for e in epochs:
        assert sorted(e) == list(range(40))
    assert epochs[0] != epochs[1] != epochs[2]
    assert epochs[0] != list(range(40))
    gt.manual_seed(123)
    assert [flat_indices(loader) for _ in range(3)] == epochs


def test_shuffle_with_generator_ignores_the_global_seed():
    ours, _ = tensor_pair(30)
    runs = []
    for global_seed in (1, 2):
        gt.manual_seed(global_seed)
        loader = gdata.DataLoader(ours, batch_size=4, shuffle=True, generator=gt.Generator().manual_seed(9))
        runs.append([flat_indices(loader) for _ in range(2)])
    assert runs[0] == runs[1]
    assert sorted(runs[0][0]) == list(range(30)) and runs[0][0] != runs[0][1]


# ---- DataLoader options -------------------------------------------------------------------------

class _Stream(gdata.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


class _TorchStream(tdata.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


@pytest.mark.parametrize("kwargs", [
    dict(num_workers=-1), dict(timeout=-1), dict(prefetch_factor=2), dict(persistent_workers=True),
    dict(num_workers=1, prefetch_factor=-1), dict(shuffle=True, sampler=[0, 1]),
    dict(batch_sampler=[[0]], batch_size=2), dict(batch_sampler=[[0]], shuffle=True),
    dict(batch_sampler=[[0]], sampler=[0]), dict(batch_sampler=[[0]], drop_last=True),
    dict(batch_size=None, drop_last=True), dict(multiprocessing_context="fork"),
    dict(num_workers=1, multiprocessing_context="nope"), dict(num_workers=1, multiprocessing_context=3),
])
def test_dataloader_option_errors_match_torch(kwargs):
    both_raise(lambda: gdata.DataLoader(list(range(4)), **kwargs), lambda: tdata.DataLoader(list(range(4)), **kwargs))


def test_dataloader_iterable_dataset_options_and_batches():
    both_raise(lambda: gdata.DataLoader(_Stream(5), shuffle=True), lambda: tdata.DataLoader(_TorchStream(5), shuffle=True))
    for kwargs in (dict(batch_size=2), dict(batch_size=2, drop_last=True), dict(batch_size=None)):
        ol, tl = gdata.DataLoader(_Stream(5), **kwargs), tdata.DataLoader(_TorchStream(5), **kwargs)
        assert len(ol) == len(tl)
        assert_same(list(ol), list(tl))
    loader = gdata.DataLoader(list(range(4)))
    with pytest.raises(ValueError, match="batch_size attribute should not be set after DataLoader is initialized"):
        loader.batch_size = 3


def test_pin_memory_warns_without_an_accelerator_like_torch():
    with pytest.warns(UserWarning) as theirs:
        next(iter(tdata.DataLoader(list(range(3)), pin_memory=True)))
    with pytest.warns(UserWarning) as ours:
        batch = next(iter(gdata.DataLoader(list(range(3)), pin_memory=True)))
    assert batch.tolist() == [0]
    assert [str(w.message) for w in ours] == [str(w.message) for w in theirs]


def test_batch_sampler_and_custom_collate():
    data = list(range(10))
    ol = gdata.DataLoader(data, batch_sampler=[[3, 1], [0], [9, 8, 7]])
    tl = tdata.DataLoader(data, batch_sampler=[[3, 1], [0], [9, 8, 7]])
    assert len(ol) == len(tl) == 3
    assert_same(list(ol), list(tl))
    assert list(gdata.DataLoader(data, batch_size=4, collate_fn=sum)) == [6, 22, 17]


# ---- the vectorized TensorDataset path ----------------------------------------------------------

def test_tensor_dataset_batches_are_gathered_without_per_sample_getitem(monkeypatch):
    ours, theirs = tensor_pair(23)
    calls = []
    original = gdata.TensorDataset.__getitem__

    def counting(self, index):
        calls.append(index)
        return original(self, index)

    monkeypatch.setattr(gdata.TensorDataset, "__getitem__", counting)
    assert_same(list(gdata.DataLoader(ours, batch_size=5)), list(tdata.DataLoader(theirs, batch_size=5)))
    train, _ = gdata.random_split(ours, [0.7, 0.3])
    for xb, yb in gdata.DataLoader(train, batch_size=4, shuffle=True):  # a Subset of it too
        np.testing.assert_array_equal(xb.numpy()[:, 0] * 5, yb.numpy())
    assert calls == []
    list(gdata.DataLoader(ours, batch_size=5, collate_fn=lambda samples: samples))  # custom collate: per sample
    assert len(calls) == 23


def test_overridden_getitem_is_honoured():
    class Plus1(gdata.TensorDataset):
        def __getitem__(self, index):
            return tuple(t[index] + 1 for t in self.tensors)

    class TorchPlus1(tdata.TensorDataset):
        def __getitem__(self, index):
            return tuple(t[index] + 1 for t in self.tensors)

    ours, theirs = tensor_pair(7)
    assert_same(list(gdata.DataLoader(Plus1(*ours.tensors), batch_size=3)),
                list(tdata.DataLoader(TorchPlus1(*theirs.tensors), batch_size=3)))


def test_getitems_protocol_is_called_once_per_batch():
    class Batched(gdata.Dataset):
        def __init__(self):
            self.calls = []

        def __len__(self):
            return 7

        def __getitem__(self, i):
            raise AssertionError("per-sample access")

        def __getitems__(self, indices):
            self.calls.append(list(indices))
            return [{"i": i} for i in indices]

    ds = Batched()
    batches = list(gdata.DataLoader(ds, batch_size=3))
    assert ds.calls == [[0, 1, 2], [3, 4, 5], [6]]
    assert [b["i"].tolist() for b in batches] == ds.calls
    sub = gdata.Subset(ds, [6, 0])
    assert [b["i"].tolist() for b in gdata.DataLoader(sub, batch_size=2)] == [[6, 0]]


# ---- worker processes ---------------------------------------------------------------------------

class _Dicts(gdata.Dataset):
    """Dict samples that record which worker made them."""

    def __len__(self):
        return 13

    def __getitem__(self, i):
        info = gdata.get_worker_info()
        return {"i": i, "x": gt.full((2,), float(i)), "pid": os.getpid(), "worker": -1 if info is None else info.id}


class _Failing(gdata.Dataset):
    def __len__(self):
        return 12

    def __getitem__(self, i):
        if i == 7:
            raise ValueError(f"bad sample {i}")
        return i


class _Dying(_Failing):
    def __getitem__(self, i):
        if i == 5:
            os._exit(3)
        return i


class _Slow(_Failing):
    def __getitem__(self, i):
        time.sleep(0.2)
        return i


class _Sharded(gdata.IterableDataset):
    """Each worker yields its own stride of range(10), as the torch docs recommend."""

    def __iter__(self):
        info = gdata.get_worker_info()
        start, step = (0, 1) if info is None else (info.id, info.num_workers)
        return iter(range(start, 10, step))


def _no_workers_left():
    deadline = time.monotonic() + 10
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.05)
    return multiprocessing.active_children() == []


def test_workers_give_the_same_batches_as_the_main_process():
    ours, _ = tensor_pair(23)
    for kwargs in (dict(batch_size=4), dict(batch_size=4, shuffle=True, drop_last=True), dict(batch_size=None)):
        gt.manual_seed(7)
        expected = list(gdata.DataLoader(ours, **kwargs))
        gt.manual_seed(7)
        got = list(gdata.DataLoader(ours, num_workers=2, **kwargs))
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            assert type(g) is type(e) and len(g) == len(e)
            for gt_, et in zip(g, e):
                assert gt_.dtype == et.dtype
                np.testing.assert_array_equal(gt_.numpy(), et.numpy())
    batches = list(gdata.DataLoader(_Dicts(), batch_size=3, num_workers=2))
    assert [b["i"].tolist() for b in batches] == [list(range(13))[k:k + 3] for k in range(0, 13, 3)]
    assert [b["worker"].tolist() for b in batches] == [[k % 2] * len(b["i"]) for k, b in enumerate(batches)]
    assert len({p for b in batches for p in b["pid"].tolist()} - {os.getpid()}) == 2
    unordered = gdata.DataLoader(_Dicts(), batch_size=3, num_workers=2, in_order=False)
    assert sorted(i for b in unordered for i in b["i"].tolist()) == list(range(13))
    assert _no_workers_left()


def test_iterable_dataset_with_workers_and_worker_init_fn():
    seen = multiprocessing.get_context("fork").Queue() if "fork" in multiprocessing.get_all_start_methods() else None
    init = (lambda wid: seen.put(wid)) if seen else None
    batches = list(gdata.DataLoader(_Sharded(), batch_size=2, num_workers=2, worker_init_fn=init))
    # worker 0 yields 0,2,4,..., worker 1 yields 1,3,...; batches alternate between them
    assert [b.tolist() for b in batches] == [[0, 2], [1, 3], [4, 6], [5, 7], [8], [9]]
    if seen:
        assert sorted(seen.get(timeout=5) for _ in range(2)) == [0, 1]
    assert _no_workers_left()


def test_worker_exception_is_reraised_with_its_traceback_and_workers_stop():
    loader = gdata.DataLoader(_Failing(), batch_size=2, num_workers=2)
    with pytest.raises(ValueError) as err:
        list(loader)
    msg = str(err.value)
    assert "Caught ValueError in DataLoader worker process 1." in msg  # batch [6, 7] is task 3 -> worker 1
    assert "Original Traceback (most recent call last)" in msg and "bad sample 7" in msg
    assert _no_workers_left()


class _BrokenStream(gdata.IterableDataset):
    def __iter__(self):
        yield from range(3)
        raise ValueError("stream broke at 3")


def _broken_collate(batch):
    raise TypeError("collate broke")


def _broken_init(worker_id):
    raise OSError("init broke")


@pytest.mark.parametrize("kwargs, error, where", [
    (dict(dataset=_BrokenStream()), ValueError, "stream broke at 3"),
    (dict(dataset=list(range(6)), collate_fn=_broken_collate), TypeError, "collate broke"),
    (dict(dataset=list(range(6)), worker_init_fn=_broken_init), OSError, "init broke"),
], ids=["iterable-dataset", "collate_fn", "worker_init_fn"])
def test_every_worker_failure_reaches_the_main_process(kwargs, error, where):
    """Whatever part of a worker fails, the loop raises the worker's exception class with its traceback,
    as PyTorch does, instead of ending the epoch early as if the data had run out."""
    with pytest.raises(error) as err:
        list(gdata.DataLoader(batch_size=2, num_workers=2, timeout=60, **kwargs))
    msg = str(err.value)
    assert re.match(rf"Caught {error.__name__} in DataLoader worker process [01]\.\n", msg), msg
    assert "Original Traceback (most recent call last)" in msg and where in msg
    assert _no_workers_left()


def test_key_error_message_stays_readable():
    class Missing(gdata.Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return {}["nope"]

    with pytest.raises(KeyError) as err:
        next(iter(gdata.DataLoader(Missing(), num_workers=1)))
    assert str(err.value).startswith("Caught KeyError in DataLoader worker process 0.\n")
    assert _no_workers_left()


def test_dead_worker_is_reported():
    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid\(s\) \d+.*\) exited unexpectedly"):
        list(gdata.DataLoader(_Dying(), batch_size=1, num_workers=2))
    assert _no_workers_left()


def test_timeout():
    with pytest.raises(RuntimeError, match="DataLoader timed out after 0.05 seconds"):
        list(gdata.DataLoader(_Slow(), num_workers=1, timeout=0.05))
    assert _no_workers_left()


def test_early_break_and_garbage_collection_leave_no_workers():
    loader = gdata.DataLoader(_Slow(), batch_size=1, num_workers=2)
    for _ in loader:
        break
    assert _no_workers_left()
    it = iter(loader)
    next(it)
    assert len(multiprocessing.active_children()) == 2
    del it
    gc.collect()
    assert _no_workers_left()


def test_ctrl_c_in_the_main_loop_stops_the_workers():
    loader = gdata.DataLoader(_Slow(), batch_size=1, num_workers=2)
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            for _ in loader:
                pass
    finally:
        timer.cancel()
    assert _no_workers_left()


def test_persistent_workers_are_reused_across_epochs():
    loader = gdata.DataLoader(_Dicts(), batch_size=4, num_workers=2, persistent_workers=True)
    first = list(loader)
    pids = {p for b in first for p in b["pid"].tolist()}
    for b in loader:  # abandon an epoch half-way: its late batches must not leak into the next
        break
    second = list(loader)
    assert [b["i"].tolist() for b in second] == [b["i"].tolist() for b in first]
    assert {p for b in second for p in b["pid"].tolist()} == pids
    assert len(multiprocessing.active_children()) == 2
    # a persistent IterableDataset restarts its stream every epoch
    stream = gdata.DataLoader(_Sharded(), batch_size=3, num_workers=2, persistent_workers=True)
    assert sorted(v for b in stream for v in b.tolist()) == list(range(10))
    assert sorted(v for b in stream for v in b.tolist()) == list(range(10))
    del loader, stream
    gc.collect()
    assert _no_workers_left()


def test_spawn_context():
    batches = list(gdata.DataLoader(list(range(5)), batch_size=2, num_workers=1, multiprocessing_context="spawn"))
    assert [b.tolist() for b in batches] == [[0, 1], [2, 3], [4]]
    assert _no_workers_left()


def test_interpreter_exit_stops_persistent_workers(tmp_path):
    script = textwrap.dedent("""
        import glasstorch.utils.data as d
        loader = d.DataLoader(list(range(100)), batch_size=2, num_workers=2, persistent_workers=True)
        it = iter(loader)
        next(it)
        print(" ".join(str(w.pid) for w in it._workers), flush=True)
    """)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": root})
    assert out.returncode == 0, out.stderr
    for pid in map(int, out.stdout.split()):
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
