"""A tiny llama with random weights, written as GGUF (the `gguf` package): a real model for
a real llama.cpp server. Its text is nonsense, but it tokenises, streams and stops as any
model does. 311 tokens (SentencePiece-style word pieces, letters and the 256 byte tokens),
64-wide, 2 layers: about 0.5 MB, thousands of tokens a second on one core.

Only one hidden dimension reaches the logits, and the end-of-text token's weight on it is
0 while every word piece's is large (of both signs): a reply almost never ends by itself,
so it runs until `max_tokens` or the context is full, and there is always time to stop it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

WORDS = (
    "the a model local server stream token reply fast small tiny llama cloud text word chat "
    "hello world and of to in is it on"
).split()
WIDTH, HEADS, LAYERS, FF, CONTEXT = 64, 4, 2, 128, 16384
# A plain template: llama-cpp-python formats the chat with the model's own.
TEMPLATE = (
    "{% for m in messages %}<s>{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}assistant:{% endif %}"
)


def write_tiny_llama(path: Path, seed: int = 7) -> Path:
    import gguf  # the real-server extra: only the tests that run llama.cpp need it

    rng = np.random.default_rng(seed)
    pieces = ["\u2581" + w for w in WORDS] + [chr(c) for c in range(ord("a"), ord("z") + 1)]
    pieces.append("\u2581")
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)] + pieces
    first_piece = len(tokens) - len(pieces)
    types = [gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL]
    types += [gguf.TokenType.BYTE] * 256 + [gguf.TokenType.NORMAL] * len(pieces)
    scores = [0.0] * first_piece + [-float(i) for i in range(len(pieces))]

    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("tiny-random-llama")
    writer.add_context_length(CONTEXT)
    writer.add_embedding_length(WIDTH)
    writer.add_block_count(LAYERS)
    writer.add_feed_forward_length(FF)
    writer.add_head_count(HEADS)
    writer.add_head_count_kv(HEADS)
    writer.add_rope_dimension_count(WIDTH // HEADS)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_unk_token_id(0)
    writer.add_chat_template(TEMPLATE)
    for name, tensor in _tensors(rng, len(tokens), first_piece):
        writer.add_tensor(name, tensor)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def _tensors(rng: np.random.Generator, vocab: int, first_piece: int):
    def random(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape) * 0.1).astype(np.float32)

    ones = np.ones(WIDTH, dtype=np.float32)
    yield "token_embd.weight", random(vocab, WIDTH)
    only_first = np.zeros(WIDTH, dtype=np.float32)
    only_first[0] = 1.0
    yield "output_norm.weight", only_first
    output = np.zeros((vocab, WIDTH), dtype=np.float32)
    output[first_piece:, 0] = rng.uniform(-8, 8, vocab - first_piece)
    yield "output.weight", output
    for i in range(LAYERS):
        yield f"blk.{i}.attn_norm.weight", ones
        yield f"blk.{i}.ffn_norm.weight", ones
        for name in ("attn_q", "attn_k", "attn_v", "attn_output"):
            yield f"blk.{i}.{name}.weight", random(WIDTH, WIDTH)
        yield f"blk.{i}.ffn_gate.weight", random(FF, WIDTH)
        yield f"blk.{i}.ffn_up.weight", random(FF, WIDTH)
        yield f"blk.{i}.ffn_down.weight", random(WIDTH, FF)
