/**
 * Crash-safe training checkpoints: one directory per checkpoint with the weights (safetensors, timm/SparK names),
 * the optimizer state, extra job tensors and a {@code state.json} (position, metrics, RNG states, full config),
 * written under a temporary name and renamed; retention of the last N and the best; exact resume with strict loads
 * and a config check that names every differing field. Start with {@link io.hgkd.train.checkpoint.CheckpointManager}
 * and {@link io.hgkd.train.checkpoint.Checkpoint}.
 */
package io.hgkd.train.checkpoint;
