package io.hgkd.models.vit;

import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Result of {@link VisionTransformer#forwardFeatures}.
 *
 * @param tokens       {@code (B, P + N, D)}: the final tokens as {@link VisionTransformer#forwardTokens} returns them
 *                     (may be a buffer the next forward pass overwrites)
 * @param blockIndices the requested block indices, in the order given
 * @param blocks       copies of the requested blocks' outputs, {@code (B, P + N, D)} each, before any final norm, in
 *                     the order of {@code blockIndices}
 */
public record VitFeatures(INDArray tokens, int[] blockIndices, List<INDArray> blocks) {
    public VitFeatures {
        blockIndices = blockIndices.clone();
        blocks = List.copyOf(blocks);
        if (blocks.size() != blockIndices.length) {
            throw new IllegalArgumentException(blocks.size() + " block outputs for " + blockIndices.length
                    + " indices");
        }
    }

    /** A copy of the requested block indices. */
    @Override
    public int[] blockIndices() {
        return blockIndices.clone();
    }

    /** The output of block {@code index} (which must have been requested). */
    public INDArray block(int index) {
        for (int i = 0; i < blockIndices.length; i++) {
            if (blockIndices[i] == index) {
                return blocks.get(i);
            }
        }
        throw new IllegalArgumentException("block " + index + " was not requested; requested "
                + java.util.Arrays.toString(blockIndices));
    }
}
