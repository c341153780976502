package io.hgkd.models.checkpoint;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A per-key fix-up applied while loading a checkpoint into a module, after the keys have been mapped and before the
 * shapes are compared: the hook for adapting a tensor to the target, e.g. resampling {@code pos_embed} to another
 * token grid ({@link PosEmbedResample}) or reshaping a flattened patch-embedding weight.
 *
 * <p>{@link LoadPlan} calls it for every key that both the checkpoint and the module have, whatever the shapes, in the
 * order the transforms were added; each sees the previous one's result.
 */
@FunctionalInterface
public interface KeyTransform {
    /**
     * @param key         the tensor's name after key mapping (e.g. {@code pos_embed})
     * @param source      the checkpoint's tensor (FLOAT unless the plan keeps dtypes); must not be modified
     * @param targetShape the shape of the module's tensor under {@code key}
     * @return the tensor to load, or {@code source} itself when this transform does not apply to the key
     * @throws IllegalArgumentException when the transform applies but cannot adapt the tensor (say, a non-square
     *                                  grid); the message should name the key and the shapes
     */
    INDArray apply(String key, INDArray source, long[] targetShape);
}
