package io.hgkd.train.distill;

import io.hgkd.core.nn.Tensors;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * What the frozen teacher contributes to one step, computed once from its tokens.
 *
 * <p>Layout: targets stay token-major, {@code (B, N, D)} with tokens in row-major grid order (the ViT's own order);
 * the losses read the student's {@code (B, D, G, G)} prediction at token {@code n = r * G + c} directly, so neither
 * side is transposed. (The teacher's layout is kept because the LN over D is a row operation there.)
 *
 * @param tokens    (B, N, D) feature targets: the teacher tokens without prefix (cls) tokens, LN-normalised without
 *                  affine when requested (method.md §1.3 (e))
 * @param embedding (B, D) the global teacher embedding z_t = l2norm(mean over tokens of the <em>un-normalised</em>
 *                  tokens) (§1.3 (f)), detached
 */
public record TeacherTargets(INDArray tokens, INDArray embedding) {
    /** eps of {@code F.normalize}: the norm is clamped to at least this. */
    public static final double L2_EPS = 1e-12;

    /** Checks the shapes agree. */
    public TeacherTargets {
        Tensors.requireRank(tokens, 3, "TeacherTargets tokens");
        Tensors.requireRank(embedding, 2, "TeacherTargets embedding");
        if (embedding.size(0) != tokens.size(0) || embedding.size(1) != tokens.size(2)) {
            throw new IllegalArgumentException("TeacherTargets embedding " + Tensors.shape(embedding)
                    + " does not match tokens " + Tensors.shape(tokens) + " (expected (B, D))");
        }
    }

    /**
     * Builds the targets from teacher tokens.
     *
     * @param teacherTokens (B, P + N, D), e.g. {@code VisionTransformer.forwardTokens}; not modified
     * @param prefixTokens  P, the number of leading cls/register tokens to drop
     * @param normalize     apply LayerNorm without affine over D to the feature targets
     * @param eps           that LayerNorm's eps (biased variance, as {@code torch.nn.LayerNorm})
     * @return new arrays of the tokens' data type
     */
    public static TeacherTargets of(INDArray teacherTokens, int prefixTokens, boolean normalize, double eps) {
        Tensors.requireRank(teacherTokens, 3, "TeacherTargets");
        if (prefixTokens < 0 || prefixTokens >= teacherTokens.size(1)) {
            throw new IllegalArgumentException("TeacherTargets: cannot drop " + prefixTokens + " prefix tokens from "
                    + Tensors.shape(teacherTokens));
        }
        long b = teacherTokens.size(0);
        long n = teacherTokens.size(1) - prefixTokens;
        long d = teacherTokens.size(2);
        INDArray t = teacherTokens.get(NDArrayIndex.all(), NDArrayIndex.interval(prefixTokens, prefixTokens + n),
                NDArrayIndex.all()).dup('c');
        INDArray z = l2normalize(t.mean(1));
        INDArray target = t;
        if (normalize) {
            INDArray rows = t.reshape('c', b * n, d);
            INDArray mean = rows.mean(1).reshape(b * n, 1);
            INDArray std = Transforms.sqrt(rows.var(false, 1).reshape(b * n, 1).addi(eps), false);
            target = rows.subColumnVector(mean).diviColumnVector(std).reshape('c', b, n, d);
        }
        return new TeacherTargets(target, z);
    }

    /** Rows divided by {@code max(||row||, 1e-12)} ({@code F.normalize(x, dim=1)}); returns a new array. */
    static INDArray l2normalize(INDArray rows) {
        INDArray norm = rows.norm2(1).reshape(rows.size(0), 1);
        Transforms.max(norm, L2_EPS, false);
        return rows.divColumnVector(norm);
    }

    /** Batch size B. */
    public long batchSize() {
        return tokens.size(0);
    }

    /** Token count N = G * G. */
    public long numTokens() {
        return tokens.size(1);
    }

    /** Teacher width D. */
    public long dim() {
        return tokens.size(2);
    }
}
