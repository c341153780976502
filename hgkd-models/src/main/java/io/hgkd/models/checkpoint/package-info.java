/**
 * Checkpoints in and out of hgkd models, on plain state dicts ({@code Map<String, INDArray>}) and
 * {@link io.hgkd.core.nn.Module}s:
 * <ul>
 *   <li>{@link io.hgkd.models.checkpoint.Checkpoints}: read {@code .safetensors}/{@code .npz} files (a {@code .pth}
 *       gets an error with the command that converts it: {@code tools/pth_to_safetensors.py}) and describe them
 *       from their headers;</li>
 *   <li>{@link io.hgkd.models.checkpoint.StateDicts}: pure key mapping (unwrap {@code model.}/{@code module.},
 *       select a sub-module, drop MAE's decoder, cast to FLOAT);</li>
 *   <li>{@link io.hgkd.models.checkpoint.LoadPlan}: a recipe of those steps plus per-key
 *       {@link io.hgkd.models.checkpoint.KeyTransform}s (e.g. {@link io.hgkd.models.checkpoint.PosEmbedResample}),
 *       loading into a module with a report of missing, unexpected and wrong-shape keys, strict or not;</li>
 *   <li>{@link io.hgkd.models.checkpoint.ArchitectureGuess}: which architecture (timm ViT, MAE, ResNet, SparK) a
 *       state dict matches, from names and shapes alone.</li>
 * </ul>
 */
package io.hgkd.models.checkpoint;
