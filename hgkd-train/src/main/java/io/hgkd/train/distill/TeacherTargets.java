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
        INDArray mean = t.mean(1);
        INDArray z = l2normalize(mean);
        INDArray target = t;
        if (normalize) {
            // in place on our own copy t
            INDArray rows = t.reshape('c', b * n, d);
            INDArray rowMean = rows.mean(1);
            INDArray var = rows.var(false, 1);
            INDArray std = Transforms.sqrt(var.reshape(b * n, 1).addi(eps), false);
            rows.subiColumnVector(rowMean.reshape(b * n, 1)).diviColumnVector(std);
            target = rows.reshape('c', b, n, d);
            free(rowMean, var); // std is var, square-rooted in place
        }
        free(mean);
        return new TeacherTargets(target, z);
    }

    /**
     * Closes the arrays that can be closed: their native memory is freed now, not when the garbage collector finds
     * their Java objects. A training step makes little heap garbage, so collections are rare and native memory would
     * otherwise pile up between them.
     */
    static void free(INDArray... arrays) {
        for (INDArray a : arrays) {
            if (a != null && a.closeable()) {
                a.close();
            }
        }
    }

    /** Frees both arrays now (they are unusable afterwards): for the owner of targets built by {@link #of}. */
    public void close() {
        free(tokens, embedding);
    }

    /** Rows divided by {@code max(||row||, 1e-12)} ({@code F.normalize(x, dim=1)}); returns a new array. */
    static INDArray l2normalize(INDArray rows) {
        INDArray norm2 = rows.norm2(1);
        INDArray norm = norm2.reshape(rows.size(0), 1);
        Transforms.max(norm, L2_EPS, false);
        INDArray out = rows.divColumnVector(norm);
        free(norm2);
        return out;
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
