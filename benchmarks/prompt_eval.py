"""Prompt evaluation speed of the installed llama-cpp-python build with the bundled model.

Prompt evaluation is most of an answer's time to first token (~750 prompt tokens), and it
depends on how llama.cpp was compiled. Compare two builds in one sitting by pointing
PYTHONPATH at another install:

    .venv/bin/python benchmarks/prompt_eval.py                      # what `make setup` installed
    CMAKE_ARGS="-DGGML_NATIVE=OFF" .venv/bin/pip install --no-cache-dir --no-deps \\
        --target /tmp/llama-portable llama-cpp-python==0.3.36        # the portable AVX2 build
    PYTHONPATH=/tmp/llama-portable .venv/bin/python benchmarks/prompt_eval.py

Another GGUF of the same model, e.g. the bundled one requantized with llama.cpp's own
quantizer (`llama_cpp.llama_model_quantize` with `allow_requantize`), is compared with
`--model PATH`. Other `Llama` settings are compared with the default (flash attention, as
`rag.generation` loads it) by `--variant NAME=JSON`, each measured in the same rounds:

    .venv/bin/python benchmarks/prompt_eval.py --repeat 5 \
        --variant 'batch 256={"n_batch": 256, "n_ubatch": 256}' --variant 'kv q8_0={"type_k": 8, "type_v": 8}'

Each configuration evaluates the same 604 tokens of corpus text from a reset context, best of
`--repeat` runs, 2 threads. A developer tool; figures go to the README's benchmark section
and docs/answers.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rag.config import Settings  # noqa: E402
from rag.models import ensure_bundled_model  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tokens", type=int, default=604)
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--model", help="a GGUF file to measure instead of the bundled model")
    p.add_argument("--variant", action="append", default=[], metavar="NAME=JSON",
                   help="extra Llama keyword arguments to compare with the flash-attention default")
    args = p.parse_args()
    try:
        variants = parse_variants(args.variant)
    except ValueError as exc:
        p.error(str(exc))

    import llama_cpp

    settings = Settings.load()
    path = args.model or str(ensure_bundled_model(settings.models_dir))
    text = "\n\n".join(f.read_text(encoding="utf-8") for f in sorted(Path("corpus").glob("*.md")))
    out = {"model": Path(path).name, "llama_cpp": llama_cpp.__file__, "system_info": llama_cpp.llama_print_system_info().decode().strip()}
    for flash in (False, True):
        llm = llama_cpp.Llama(model_path=path, n_ctx=4096, n_threads=settings.llm_threads,
                              n_threads_batch=settings.llm_threads, flash_attn=flash, verbose=False)
        tokens = llm.tokenize(text.encode("utf-8"))[: args.tokens]
        best = min(_eval_seconds(llm, tokens) for _ in range(args.repeat))
        out[f"prompt_tokens_per_s{'_flash_attn' if flash else ''}"] = round(len(tokens) / best, 1)
        del llm
    out["tokens"] = len(tokens)
    if variants:
        out["variants"] = compare(path, tokens, variants, settings.llm_threads, args.repeat)
    print(json.dumps(out, indent=2))


def parse_variants(specs: list[str]) -> dict[str, dict[str, Any]]:
    """`--variant NAME=JSON` values -> {name: Llama keyword arguments}. Raises ValueError,
    naming the bad value, for a missing "=", JSON that is not an object, or a repeated or
    reserved name ("default" is the baseline every variant is compared with)."""
    variants: dict[str, dict[str, Any]] = {}
    for spec in specs:
        name, sep, raw = spec.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ValueError(f"--variant {spec!r}: expected NAME=JSON, e.g. 'batch 256={{\"n_batch\": 256}}'")
        if name == "default" or name in variants:
            raise ValueError(f"--variant {spec!r}: the name {name!r} is taken; give each variant its own name")
        try:
            kwargs = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ValueError(f"--variant {spec!r}: {raw!r} is not JSON ({exc.msg})") from None
        if not isinstance(kwargs, dict):
            raise ValueError(f"--variant {spec!r}: the JSON must be an object of Llama keyword arguments")
        variants[name] = kwargs
    return variants


def _eval_seconds(llm: Any, tokens: list[int]) -> float:
    """Seconds to evaluate `tokens` from an empty context."""
    llm.reset()
    t0 = time.perf_counter()
    llm.eval(tokens)
    return time.perf_counter() - t0


def compare(path: str, tokens: list[int], variants: dict[str, dict[str, Any]], threads: int, repeat: int) -> dict:
    """Tokens/s of each variant and of the default, all loaded at once and timed in
    interleaved rounds, so a change in the host's speed during the run hits them alike."""
    import llama_cpp

    configs = {"default": {}, **variants}
    models = {name: llama_cpp.Llama(model_path=path, n_ctx=4096, n_threads=threads, n_threads_batch=threads,
                                    flash_attn=True, verbose=False, **kw) for name, kw in configs.items()}
    best = dict.fromkeys(configs, float("inf"))
    for _ in range(repeat):
        for name, llm in models.items():
            best[name] = min(best[name], _eval_seconds(llm, tokens))
    return {name: {"prompt_tokens_per_s": round(len(tokens) / t, 1), "ratio_to_default": round(best["default"] / t, 3)}
            for name, t in best.items()}


if __name__ == "__main__":
    main()
