/**
 * Which CTranslate2 Whisper variable becomes which whisper.cpp tensor.
 * Both sides keep PyTorch's [out, in] and [out, in, kernel] row-major
 * layouts, so no tensor is transposed; CTranslate2 fuses the attention
 * projections, so those are cut back apart by rows:
 * - self-attention `linear_0` is [query; key; value];
 * - cross-attention `linear_1` is [key; value].
 * Whisper's key projection has no bias; CTranslate2 fills the key's part
 * of the fused bias with zeros, which is dropped here (and checked).
 * The order is OpenAI's state-dict order, which whisper.cpp's own
 * converter writes; the loader accepts any order.
 */

/** One tensor of the ggml file and where its data comes from. */
export interface TensorPlan {
  /** whisper.cpp's name. */
  readonly name: string;
  /** The CTranslate2 variable. */
  readonly source: string;
  /** A slice of the source's rows: part `index` of `of` equal parts. */
  readonly part?: { readonly index: number; readonly of: number };
  /**
   * A weight matrix or conv weight: stored F16 in a model of ftype 1.
   * Biases, norms and positional embeddings are always F32.
   */
  readonly matrix: boolean;
  /** Reshape the (1-D) source to [n, 1], as whisper.cpp wants conv biases. */
  readonly column?: boolean;
}

/** A slice of a fused bias that has no whisper.cpp tensor; must be zero. */
export interface DroppedSlice {
  readonly source: string;
  readonly part: { readonly index: number; readonly of: number };
}

/** Every tensor of a whisper model and the slices left out. */
export interface WhisperPlan {
  readonly tensors: readonly TensorPlan[];
  readonly dropped: readonly DroppedSlice[];
}

/** The plan for a model with these layer counts (167 tensors for tiny). */
export function whisperPlan(
  audioLayers: number,
  textLayers: number,
): WhisperPlan {
  const tensors: TensorPlan[] = [];
  const dropped: DroppedSlice[] = [];
  const add = (t: TensorPlan): number => tensors.push(t);

  add(
    vector(
      "encoder.positional_embedding",
      "encoder/position_encodings/encodings",
    ),
  );
  for (const i of [1, 2]) {
    add(weight(`encoder.conv${i}.weight`, `encoder/conv${i}/weight`));
    add({
      ...vector(`encoder.conv${i}.bias`, `encoder/conv${i}/bias`),
      column: true,
    });
  }
  for (let i = 0; i < audioLayers; i++) {
    block(tensors, dropped, `encoder/layer_${i}`, `encoder.blocks.${i}`, false);
  }
  norm(tensors, "encoder.ln_post", "encoder/layer_norm");

  add(
    vector(
      "decoder.positional_embedding",
      "decoder/position_encodings/encodings",
    ),
  );
  add(weight("decoder.token_embedding.weight", "decoder/embeddings/weight"));
  for (let i = 0; i < textLayers; i++) {
    block(tensors, dropped, `decoder/layer_${i}`, `decoder.blocks.${i}`, true);
  }
  norm(tensors, "decoder.ln", "decoder/layer_norm");
  return { tensors, dropped };
}

/** One residual attention block: attention, [cross-attention], MLP. */
function block(
  out: TensorPlan[],
  dropped: DroppedSlice[],
  ct2: string,
  ggml: string,
  cross: boolean,
): void {
  const self = `${ct2}/self_attention`;
  fused(out, dropped, `${self}/linear_0`, `${ggml}.attn`, [
    "query",
    "key",
    "value",
  ]);
  linear(out, `${ggml}.attn.out`, `${self}/linear_1`);
  norm(out, `${ggml}.attn_ln`, `${self}/layer_norm`);

  if (cross) {
    const att = `${ct2}/attention`;
    linear(out, `${ggml}.cross_attn.query`, `${att}/linear_0`);
    fused(out, dropped, `${att}/linear_1`, `${ggml}.cross_attn`, [
      "key",
      "value",
    ]);
    linear(out, `${ggml}.cross_attn.out`, `${att}/linear_2`);
    norm(out, `${ggml}.cross_attn_ln`, `${att}/layer_norm`);
  }

  linear(out, `${ggml}.mlp.0`, `${ct2}/ffn/linear_0`);
  linear(out, `${ggml}.mlp.2`, `${ct2}/ffn/linear_1`);
  norm(out, `${ggml}.mlp_ln`, `${ct2}/ffn/layer_norm`);
}

/** Projections fused by rows, split apart; the key's bias is dropped. */
function fused(
  out: TensorPlan[],
  dropped: DroppedSlice[],
  source: string,
  prefix: string,
  parts: readonly ("query" | "key" | "value")[],
): void {
  parts.forEach((p, index) => {
    const part = { index, of: parts.length };
    out.push({ ...weight(`${prefix}.${p}.weight`, `${source}/weight`), part });
    if (p === "key") dropped.push({ source: `${source}/bias`, part });
    else out.push({ ...vector(`${prefix}.${p}.bias`, `${source}/bias`), part });
  });
}

function linear(out: TensorPlan[], ggml: string, ct2: string): void {
  out.push(weight(`${ggml}.weight`, `${ct2}/weight`));
  out.push(vector(`${ggml}.bias`, `${ct2}/bias`));
}

/** A layer norm: CTranslate2's gamma and beta are weight and bias. */
function norm(out: TensorPlan[], ggml: string, ct2: string): void {
  out.push(vector(`${ggml}.weight`, `${ct2}/gamma`));
  out.push(vector(`${ggml}.bias`, `${ct2}/beta`));
}

function weight(name: string, source: string): TensorPlan {
  return { name, source, matrix: true };
}

function vector(name: string, source: string): TensorPlan {
  return { name, source, matrix: false };
}
