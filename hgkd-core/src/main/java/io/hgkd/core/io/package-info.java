/**
 * Tensor file formats: {@link io.hgkd.core.io.SafeTensors} (Hugging Face safetensors, for checkpoints) and
 * {@link io.hgkd.core.io.Npz} (numpy archives, for fixtures and debugging dumps). Both write atomically (temporary
 * file and rename) and report malformed files as {@link io.hgkd.core.io.TensorFormatException}s naming the file.
 */
package io.hgkd.core.io;
