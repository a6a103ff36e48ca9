"""Convert pickled PyTorch weights (pytorch_model.bin) to a folder the course can load (model.safetensors).

Some hub repositories publish only ``pytorch_model.bin``: a pickle, which can run code when it is loaded, so
the course never loads it. This command reads it with ``torch.load(weights_only=True)`` (tensors only: a file
holding anything else is refused), writes ``model.safetensors``, and copies ``config.json`` beside it, all on
your machine (no conversion service is involved). Then give the new folder as the model name.

    poetry run python tools/convert_to_safetensors.py facebook/some-model some-model-safetensors
    poetry run python tools/convert_to_safetensors.py path/to/folder-with-pytorch_model.bin converted
    poetry run python exercises/explore_hubert.py --model some-model-safetensors

SOURCE is a hub id (downloaded into your Hugging Face cache), a folder with ``pytorch_model.bin`` (or
``pytorch_model.bin.index.json`` and its shards) and ``config.json``, or a ``.bin`` file.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from src.cli import ArgumentParser, run
from src.errors import UserError

COPIED = ("config.json", "preprocessor_config.json", "generation_config.json")


def parse_args(argv: list[str] | None):
    parser = ArgumentParser(prog="convert_to_safetensors.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("source", help="hub id, folder holding pytorch_model.bin, or a .bin file")
    parser.add_argument("output", help="new folder to write model.safetensors and config.json into")
    return parser.parse_args(argv)


def pickled_files(source: str) -> tuple[Path, list[Path]]:
    """(folder with config.json, the .bin files to read) for a file, a folder or a hub id."""
    path = Path(source).expanduser()
    if path.is_file():
        return path.parent, [path]
    if not path.is_dir():
        if source.count("/") != 1:
            raise UserError(f"{source}: no such file or folder, and not a hub id (org/name)")
        from src.hub import fetch_pickled_model

        path = fetch_pickled_model(source)
    if (path / "pytorch_model.bin").is_file():
        return path, [path / "pytorch_model.bin"]
    index = path / "pytorch_model.bin.index.json"
    if index.is_file():
        try:
            shards = sorted(set(json.loads(index.read_text(encoding="utf-8"))["weight_map"].values()))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
            raise UserError(f"{index}: cannot read its list of shards ({err})") from None
        return path, [path / shard for shard in shards]
    raise UserError(f"{path}: no pytorch_model.bin (nor pytorch_model.bin.index.json) in this folder")


def load_tensors(files: list[Path]) -> dict:
    """All tensors of the pickled files, read with weights_only=True; tensors sharing memory are copied."""
    import pickle

    import torch

    tensors: dict[str, torch.Tensor] = {}
    for file in files:
        try:
            try:
                state = torch.load(file, map_location="cpu", weights_only=True, mmap=True)
            except RuntimeError as err:  # mmap needs the zip format of torch >= 1.6; older files load without it
                if "mmap" not in str(err):
                    raise
                state = torch.load(file, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as err:
            reason = " ".join(str(err).split())[:200]
            raise UserError(f"{file}: refused, it holds more than tensors and could run code when loaded "
                            f"({reason})") from None
        except (OSError, RuntimeError, EOFError, ValueError) as err:
            raise UserError(f"{file}: not a PyTorch weights file ({' '.join(str(err).split())[:200]})") from None
        if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
            raise UserError(f"{file}: not a flat dictionary of tensors (a transformers state dict)")
        tensors.update(state)
    seen: set[tuple[int, int]] = set()
    for name, tensor in tensors.items():
        key = (tensor.untyped_storage().data_ptr(), tensor.untyped_storage().nbytes())
        if key in seen or not tensor.is_contiguous():  # safetensors stores each tensor on its own
            tensors[name] = tensor.contiguous().clone()
        seen.add(key)
    return tensors


def main(argv: list[str] | None = None) -> Path:
    args = parse_args(argv)
    output = Path(args.output).expanduser()
    target = output / "model.safetensors"
    if target.exists():
        raise UserError(f"{target} already exists; choose a new output folder")
    folder, files = pickled_files(args.source)
    if not (folder / "config.json").is_file():
        raise UserError(f"{folder}: no config.json beside the weights; transformers needs it to build the model")
    tensors = load_tensors(files)

    from safetensors.torch import save_file

    partial = output / ".model.safetensors.partial"
    try:
        output.mkdir(parents=True, exist_ok=True)
        save_file(tensors, str(partial), metadata={"format": "pt"})
        os.replace(partial, target)
        for name in COPIED:
            if (folder / name).is_file():
                shutil.copyfile(folder / name, output / name)
    except OSError as err:
        raise UserError(f"{output}: cannot write here ({err.strerror or err}); choose another output folder") from None
    finally:
        partial.unlink(missing_ok=True)  # gone already when the conversion succeeded
    size = target.stat().st_size
    print(f"Wrote {target} ({len(tensors)} tensors, {size / 1e6:.1f} MB) and config.json, from "
          f"{', '.join(f.name for f in files)}")
    print(f"Use it with: --model {output}")
    return output


if __name__ == "__main__":
    run(main)
