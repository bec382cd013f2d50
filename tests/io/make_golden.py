#!/usr/bin/python3
"""Writes the golden msgpack files of tests/io the way flax.serialization writes them.

Run by hand when the golden files change (not at build time); needs only Debian's python3-msgpack
and python3-numpy:

    /usr/bin/python3 tests/io/make_golden.py   # writes tests/data/*.msgpack and the IDX files

The functions below are flax/serialization.py's msgpack path (msgpack_serialize with
in_place=True, _msgpack_ext_pack, _ndarray_to_bytes, _chunk, _tuple_to_dict), with jax.Array
replaced by np.ndarray (Flax converts jax arrays with np.array before packing, so the bytes are
the same). The state dicts are built with sorted keys, as jute writes them.
"""
import gzip
import os

import msgpack
import numpy as np

MAX_CHUNK_SIZE = 2**30
EXT_NDARRAY, EXT_NATIVE_COMPLEX, EXT_NPSCALAR = 1, 2, 3
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data")


def _ndarray_to_bytes(arr):
    if arr.dtype.hasobject or arr.dtype.isalignedstruct:
        raise ValueError("Object and structured dtypes not supported for serialization of ndarrays.")
    tpl = (arr.shape, arr.dtype.name, arr.tobytes("C"))
    return msgpack.packb(tpl, use_bin_type=True)


def _msgpack_ext_pack(x):
    if isinstance(x, np.ndarray):
        return msgpack.ExtType(EXT_NDARRAY, _ndarray_to_bytes(x))
    if isinstance(x, np.generic):  # np.issctype(type(x))
        return msgpack.ExtType(EXT_NPSCALAR, _ndarray_to_bytes(np.asarray(x)))
    if isinstance(x, complex):
        return msgpack.ExtType(EXT_NATIVE_COMPLEX, msgpack.packb((x.real, x.imag)))
    return x


def _tuple_to_dict(tpl):
    return {str(x): y for x, y in enumerate(tpl)}


def _chunk(arr, max_chunk_size):
    chunksize = max(1, int(max_chunk_size / arr.dtype.itemsize))
    data = {"__msgpack_chunked_array__": True, "shape": _tuple_to_dict(arr.shape)}
    flatarr = arr.reshape(-1)
    chunks = [flatarr[i:i + chunksize] for i in range(0, flatarr.size, chunksize)]
    data["chunks"] = _tuple_to_dict(chunks)
    return data


def _chunk_array_leaves_in_place(d, max_chunk_size):
    if isinstance(d, dict):
        for k, v in d.items():
            if isinstance(v, np.ndarray):
                if v.size * v.dtype.itemsize > max_chunk_size:
                    d[k] = _chunk(v, max_chunk_size)
            else:
                d[k] = _chunk_array_leaves_in_place(v, max_chunk_size)
    elif isinstance(d, np.ndarray):
        if d.size * d.dtype.itemsize > max_chunk_size:
            return _chunk(d, max_chunk_size)
    return d


def msgpack_serialize(pytree, max_chunk_size=MAX_CHUNK_SIZE):
    pytree = _chunk_array_leaves_in_place(pytree, max_chunk_size)
    return msgpack.packb(pytree, default=_msgpack_ext_pack, strict_types=True)


def f32(values, shape=None):
    a = np.asarray(values, dtype=np.float32)
    return a.reshape(shape) if shape is not None else a


def mlp_params():
    """Two Dense layers, 2 -> 3 -> 1, with values i/8 - 0.5 (exact in float32)."""
    def ramp(n, start):
        return (np.arange(start, start + n, dtype=np.float32) / 8 - 0.5).astype(np.float32)
    return {
        "Dense_0": {"bias": ramp(3, 6), "kernel": ramp(6, 0).reshape(2, 3)},
        "Dense_1": {"bias": ramp(1, 12), "kernel": ramp(3, 9).reshape(3, 1)},
    }


def zeros_like_tree(t):
    return {k: zeros_like_tree(v) if isinstance(v, dict) else np.zeros_like(v) for k, v in t.items()}


def scaled_tree(t, s):
    return {k: scaled_tree(v, s) if isinstance(v, dict) else (v * np.float32(s)).astype(v.dtype)
            for k, v in t.items()}


def adam_state(params, count):
    """optax.adam's state as a state dict: chain(scale_by_adam, scale_by_learning_rate) is a
    tuple (ScaleByAdamState(count, mu, nu), EmptyState()) -> {"0": {...}, "1": {}}."""
    return {
        "0": {"count": np.asarray(count, dtype=np.int32), "mu": scaled_tree(params, 0.25),
              "nu": scaled_tree(scaled_tree(params, 0.5), 0.5)},
        "1": {},
    }


def files():
    params = mlp_params()
    yield "mlp_params", {"params": params}, {}
    yield "adam_state", adam_state(params, 3), {}
    # A flax TrainState (step, params, opt_state) with batch_stats as an extra field.
    yield "train_state", {
        "batch_stats": {"BatchNorm_0": {"mean": f32([0.5, -0.25]), "var": f32([1.0, 2.0])}},
        "opt_state": adam_state(params, 7),
        "params": params,
        "step": np.asarray(7, dtype=np.int32),
    }, {}
    # TrainState.create sets step to the Python int 0: a native msgpack int.
    yield "train_state_fresh", {
        "batch_stats": {"BatchNorm_0": {"mean": f32([0.0, 0.0]), "var": f32([1.0, 1.0])}},
        "opt_state": adam_state(zeros_like_tree(params), 0),
        "params": params,
        "step": 0,
    }, {}
    yield "dtypes", {
        "a_bool": np.array([True, False, True]),
        "b_uint8": np.arange(250, 256, dtype=np.uint8).reshape(2, 3),
        "c_int32": np.array([-2**31, -1, 0, 1, 2**31 - 1], dtype=np.int32),
        "d_uint32": np.array([0, 2**32 - 1], dtype=np.uint32),
        "e_float32": np.array([0.1, -0.0, np.inf, -np.inf, np.nan, 1e-45], dtype=np.float32),
        "f_float64": np.array([[0.1, -1e308], [5e-324, np.pi]], dtype=np.float64),
        "g_scalar_f32": np.asarray(1.5, dtype=np.float32),
        "h_scalar_i32": np.asarray(3, dtype=np.int32),
        "i_empty": np.zeros((0, 3), dtype=np.float32),
        "j_long_axis": np.arange(300, dtype=np.float32).reshape(300, 1),
        "k_wide_axis": np.zeros((0, 70000), dtype=np.uint8),
        "l_empty_dict": {},
        "m_nested": {"x": {"y": {"z": {}}}},
        "n_a_key_longer_than_thirty_one_bytes_for_str8": np.ones(1, dtype=np.float32),
        "o_\u00e9t\u00e9": np.zeros(2, dtype=np.float32),
    }, {}
    yield "native", {
        "bool_false": False,
        "bool_true": True,
        "float_neg": -2.5,
        "float_tenth": 0.1,
        "int_big": 2**31 - 1,
        "int_min": -2**31,
        "int_neg_fix": -5,
        "int_neg_i16": -200,
        "int_neg_i32": -70000,
        "int_u16": 300,
        "int_u32": 70000,
        "int_u8": 200,
        "int_zero": 0,
    }, {}
    # Flax's serialization test: MAX_CHUNK_SIZE = 91 * 8 and a float64 (10, 10) array give
    # chunks of 91 and 9 elements.
    yield "chunked", {
        "a": np.arange(100, dtype=np.float64).reshape(10, 10) / 4,
        "b": np.arange(3, dtype=np.float64),
    }, {"max_chunk_size": 91 * 8}
    # spec/flax.md's worked example in Flax's insertion order (kernel before bias), 70 bytes,
    # and the same state with sorted keys.
    yield "unsorted", {"params": {"kernel": f32([[1, 2]]), "bias": f32([0, 0])}}, {}
    yield "unsorted_sorted", {"params": {"bias": f32([0, 0]), "kernel": f32([[1, 2]])}}, {}
    # NumPy scalars (ext 3), which jute reads as 0-d arrays.
    yield "np_scalars", {"f": np.float32(1.5), "i": np.int32(-3), "u": np.uint8(7)}, {}
    # Dtypes jute does not have.
    yield "int64", {"x": np.arange(3, dtype=np.int64)}, {}
    yield "complex", {"z": 1 + 2j}, {}


def idx_bytes(arr, code):
    """An IDX file: two zero bytes, the type code, the rank, big-endian uint32 dimensions, then
    the values big-endian."""
    header = bytes([0, 0, code, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    return header + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def idx_files():
    """Small IDX files: an MNIST-like split (images gzip-compressed, labels plain) and one file
    per other element type."""
    images = (np.arange(5 * 4 * 3) * 7 % 256).astype(np.uint8).reshape(5, 4, 3)
    yield "mini-images-idx3-ubyte.gz", gzip.compress(idx_bytes(images, 0x08), mtime=0)
    yield "mini-labels-idx1-ubyte", idx_bytes(np.array([3, 1, 4, 1, 5], dtype=np.uint8), 0x08)
    yield "int8.idx", idx_bytes(np.array([-128, -1, 0, 127], dtype=np.int8), 0x09)
    yield "int16.idx", idx_bytes(np.array([[-32768, -2], [300, 32767]], dtype=np.int16), 0x0B)
    yield "int32.idx", idx_bytes(np.array([-2**31, 2**31 - 1, 65536], dtype=np.int32), 0x0C)
    yield "float32.idx", idx_bytes(np.array([0.1, -2.5, np.inf], dtype=np.float32), 0x0D)
    yield "float64.idx", idx_bytes(np.array([[0.1], [-1e300]], dtype=np.float64), 0x0E)


def npy_files():
    """np.save of every dtype jute has (C order, little-endian), plus a Fortran-order, a
    big-endian and a version 2.0 file, and np.savez / np.savez_compressed archives."""
    import io
    def saved(arr, **kwargs):
        f = io.BytesIO()
        np.lib.format.write_array(f, arr, **kwargs) if kwargs else np.save(f, arr)
        return f.getvalue()
    yield "bool.npy", saved(np.array([[True, False], [False, True]]))
    yield "uint8.npy", saved(np.arange(250, 256, dtype=np.uint8))
    yield "int32.npy", saved(np.array([-2**31, -1, 2**31 - 1], dtype=np.int32))
    yield "uint32.npy", saved(np.array([0, 2**32 - 1], dtype=np.uint32))
    yield "float32.npy", saved(np.arange(24, dtype=np.float32).reshape(2, 3, 4) / 8)
    yield "float64.npy", saved(np.array(np.pi))  # 0-d
    yield "empty.npy", saved(np.zeros((0, 5), dtype=np.float32))
    yield "long_axis.npy", saved(np.zeros((1234567, 0), dtype=np.float64))
    yield "fortran.npy", saved(np.asfortranarray(np.arange(6, dtype=np.int32).reshape(2, 3)))
    yield "big_endian.npy", saved(np.array([1.5, -2.0], dtype=">f8"))
    yield "v2.npy", saved(np.array([1, 2], dtype=np.uint8), version=(2, 0))
    yield "int64.npy", saved(np.arange(3, dtype=np.int64))
    yield "params.npz", savez({"params/Dense_0/kernel": np.ones((2, 3), dtype=np.float32),
                               "params/Dense_0/bias": np.zeros(3, dtype=np.float32),
                               "step": np.int32(7)}, compress=False)
    yield "compressed.npz", savez({"a": np.arange(1000, dtype=np.float64), "b": np.array([True])},
                                  compress=True)


def savez(arrays, compress):
    """numpy's _savez (np.savez / np.savez_compressed): one "<name>.npy" member per array written
    through zipf.open(..., force_zip64=True), with a fixed time stamp so the bytes are
    reproducible."""
    import io
    import zipfile
    f = io.BytesIO()
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(f, mode="w", compression=method, allowZip64=True) as zipf:
        for key, val in arrays.items():
            info = zipfile.ZipInfo(key + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = method
            with zipf.open(info, "w", force_zip64=True) as fid:
                np.lib.format.write_array(fid, np.asanyarray(val), allow_pickle=False)
    return f.getvalue()


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, tree, kwargs in files():
        data = msgpack_serialize(tree, **kwargs)
        with open(os.path.join(OUT, name + ".msgpack"), "wb") as f:
            f.write(data)
        print(f"{name}.msgpack: {len(data)} bytes")
    # A bfloat16 array, as Flax writes one (dtype name "bfloat16", two bytes per element);
    # NumPy has no bfloat16, so the payload is packed by hand.
    payload = msgpack.packb(((2,), "bfloat16", b"\x80\x3f\x00\x40"), use_bin_type=True)
    data = msgpack.packb({"w": msgpack.ExtType(EXT_NDARRAY, payload)})
    with open(os.path.join(OUT, "bfloat16.msgpack"), "wb") as f:
        f.write(data)
    print(f"bfloat16.msgpack: {len(data)} bytes")
    for name, data in list(idx_files()) + list(npy_files()):
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
        print(f"{name}: {len(data)} bytes")


if __name__ == "__main__":
    main()
