"""Re-quantize a GGUF with llama.cpp's own quantizer, so that a kernel can be timed on this machine without
downloading a model of that type (llama.cpp's matrix kernels run at very different speeds per type)."""

from __future__ import annotations

import ctypes
from pathlib import Path

import llama_cpp

from backends.base import BackendError
from backends.llama_cpp.load_log import LoadLog

# ggml tensor type -> the llama.cpp file type whose "pure" quantization writes it (pure: every weight matrix
# gets the type, except where a row length does not fit its block, where llama.cpp falls back to another).
# Types that need an importance matrix (IQ1/IQ2/IQ3) are not here: they cannot be made without one.
FILE_TYPES: dict[str, int] = {
    "F16": llama_cpp.LLAMA_FTYPE_MOSTLY_F16,
    "BF16": llama_cpp.LLAMA_FTYPE_MOSTLY_BF16,
    "Q8_0": llama_cpp.LLAMA_FTYPE_MOSTLY_Q8_0,
    "Q4_0": llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_0,
    "Q4_1": llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_1,
    "Q5_0": llama_cpp.LLAMA_FTYPE_MOSTLY_Q5_0,
    "Q5_1": llama_cpp.LLAMA_FTYPE_MOSTLY_Q5_1,
    "Q2_K": llama_cpp.LLAMA_FTYPE_MOSTLY_Q2_K,
    "Q3_K": llama_cpp.LLAMA_FTYPE_MOSTLY_Q3_K_S,
    "Q4_K": llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_K_S,
    "Q5_K": llama_cpp.LLAMA_FTYPE_MOSTLY_Q5_K_S,
    "Q6_K": llama_cpp.LLAMA_FTYPE_MOSTLY_Q6_K,
    "IQ4_NL": llama_cpp.LLAMA_FTYPE_MOSTLY_IQ4_NL,
    "IQ4_XS": llama_cpp.LLAMA_FTYPE_MOSTLY_IQ4_XS,
}


def requantize(source: Path, target: Path, ggml_type: str, n_threads: int = 0) -> None:
    """Write `source` re-quantized to `ggml_type` (pure) at `target`; BackendError naming the reason."""
    if ggml_type not in FILE_TYPES:
        raise BackendError(f"llama.cpp cannot quantize to {ggml_type} without an importance matrix")
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype, params.allow_requantize, params.pure, params.nthread = (
        FILE_TYPES[ggml_type], True, True, n_threads
    )  # fmt: skip
    with LoadLog() as log:  # llama.cpp prints a line per tensor: keep it out of the user's terminal
        status = llama_cpp.llama_model_quantize(
            str(source).encode(), str(target).encode(), ctypes.byref(params)
        )
    if status != 0 or not target.is_file():
        target.unlink(missing_ok=True)
        raise BackendError(
            f"llama.cpp could not quantize {source.name} to {ggml_type}: {log.last_error() or f'status {status}'}"
        )
