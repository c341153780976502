package io.hgkd.models.vit;

import io.hgkd.core.nn.Dropout;
import io.hgkd.core.nn.Gemm;
import io.hgkd.core.nn.Linear;
import io.hgkd.core.nn.Module;
import io.hgkd.core.nn.RowKernels;
import io.hgkd.core.nn.Tensors;
import org.apache.commons.math3.random.RandomGenerator;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.custom.SoftMax;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * timm's multi-head self attention: {@code qkv = Linear(D, 3D)}, per head {@code softmax(q k^T * hd^-0.5) v},
 * heads concatenated in head order, {@code proj = Linear(D, D)}.
 *
 * <p>Layout as timm ({@code reshape(B, N, 3, H, hd)}): rows {@code 0..D-1} of {@code qkv.weight} produce q,
 * {@code D..2D-1} k and {@code 2D..3D-1} v; inside each, head h owns rows {@code h*hd .. (h+1)*hd-1}. Input and output
 * are {@code (B, N, D)}. Short sequences run the attention core in {@link AttentionKernel} (Java loops, no GEMM call
 * per pair). Longer ones run one {@link Gemm#gemm} per (sample, head) (faster than ND4J's batched matmul op), reading
 * q, k, v and the context gradient as strided column blocks in place; the softmax runs in place over all heads at once.
 */
public class Attention extends Module {
    private final int dim;
    private final int numHeads;
    private final int headDim;
    private final double scale;
    private final Linear qkv;
    private final Dropout attnDrop;
    private final Linear proj;
    private final Dropout projDrop;

    private long batch;
    private long tokens;
    private INDArray qkvOut;   // (B*N, 3D) view of the qkv output: q/k/v of head h are column blocks
    private INDArray attn;     // (B*H, N, N) softmax probabilities
    private INDArray probs;    // attn after attention dropout (attn itself without dropout)
    private INDArray ctxh;     // (B*H, N, hd) per-head context
    private INDArray ctx;      // (B, N, D) heads concatenated
    private INDArray gradProbs;
    private INDArray gradQkvh; // (3*B*H, N, hd): dq for all (b, h), then dk, then dv
    private INDArray gradQkv;  // (B, N, 3D)
    private boolean javaCore;  // the last forward ran the attention core in AttentionKernel
    /** Largest {@code N * N * hd} that runs in {@link AttentionKernel}; tests set it to force either path. */
    long javaCoreMaxWork = AttentionKernel.MAX_WORK;
    private final ViewCache qkvViews = new ViewCache();
    private final ViewCache attnViews = new ViewCache();
    private final ViewCache probsViews = new ViewCache();
    private final ViewCache ctxhViews = new ViewCache();
    private final ViewCache gradCtxViews = new ViewCache();
    private final ViewCache gradProbsViews = new ViewCache();
    private final ViewCache gradScoresViews = new ViewCache();
    private final ViewCache gradQkvhViews = new ViewCache();

    /**
     * @param dim          D, divisible by {@code numHeads}
     * @param qkvBias      bias on the qkv projection
     * @param attnDropRate dropout on the attention probabilities
     * @param projDropRate dropout after {@code proj}
     * @param rng          generator of the dropout draws
     */
    public Attention(int dim, int numHeads, boolean qkvBias, double attnDropRate, double projDropRate,
                     RandomGenerator rng) {
        if (dim <= 0 || numHeads <= 0 || dim % numHeads != 0) {
            throw new IllegalArgumentException("Attention: dim " + dim + " must be a positive multiple of numHeads "
                    + numHeads);
        }
        this.dim = dim;
        this.numHeads = numHeads;
        this.headDim = dim / numHeads;
        this.scale = Math.pow(headDim, -0.5);
        this.qkv = registerModule("qkv", new Linear(dim, 3 * dim, qkvBias));
        this.attnDrop = registerModule("attn_drop", new Dropout(attnDropRate, rng));
        this.proj = registerModule("proj", new Linear(dim, dim));
        this.projDrop = registerModule("proj_drop", new Dropout(projDropRate, rng));
    }

    public Linear qkv() {
        return qkv;
    }

    public Linear proj() {
        return proj;
    }

    public int numHeads() {
        return numHeads;
    }

    /** hd^-0.5. */
    public double scale() {
        return scale;
    }

    /**
     * The attention probabilities of the last forward pass, {@code (B, H, N, N)} (before attention dropout), as a
     * view of a module-owned buffer.
     */
    public INDArray lastAttention() {
        if (attn == null) {
            throw new IllegalStateException("Attention.lastAttention called before a forward pass with gradients");
        }
        return attn.reshape('c', batch, numHeads, tokens, tokens);
    }

    /**
     * The (N, hd) column blocks of a (B*N, parts*D) matrix for every (part, sample, head), index
     * {@code (part * B + b) * H + h}: strided views that GEMM reads in place, so q, k and v need no transposed copy.
     */
    private INDArray[] headBlocks(INDArray m, long b, long n, int parts) {
        INDArray[] v = new INDArray[(int) (parts * b * numHeads)];
        for (int s = 0; s < parts; s++) {
            for (int sample = 0; sample < b; sample++) {
                for (int h = 0; h < numHeads; h++) {
                    long col = (long) s * dim + (long) h * headDim;
                    v[(int) ((s * b + sample) * numHeads + h)] = m.get(
                            NDArrayIndex.interval(sample * n, (sample + 1) * n),
                            NDArrayIndex.interval(col, col + headDim));
                }
            }
        }
        return v;
    }

    /** {@code (B*H, N, hd)} per-head context to {@code (B, N, D)} with heads concatenated, as timm's transpose. */
    private static void mergeHeads(INDArray ctxh, INDArray out, long b, long n, int heads, int hd) {
        Tensors.exec("permute", new INDArray[] {ctxh.reshape('c', b, heads, n, hd)},
                new INDArray[] {out.reshape('c', b, n, heads, hd)}, 0, 2, 1, 3);
    }

    /** Whether the attention core of a sequence this long runs in {@link AttentionKernel} rather than GEMM calls. */
    private boolean useJavaCore(long nTok, DataType type) {
        return nTok * nTok * headDim <= javaCoreMaxWork && (type == DataType.FLOAT || type == DataType.DOUBLE);
    }

    /** @param x (B, N, D); @return (B, N, D) */
    @Override
    public INDArray forward(INDArray x) {
        Tensors.requireRank(x, 3, "Attention");
        if (x.size(2) != dim) {
            throw new IllegalArgumentException("Attention(dim=" + dim + ") got input of shape " + Tensors.shape(x));
        }
        DataType type = x.dataType();
        batch = x.size(0);
        tokens = x.size(1);
        long bh = batch * numHeads;
        int n = (int) bh;
        qkvOut = qkv.forward(x).reshape('c', batch * tokens, 3L * dim);
        attn = Tensors.reuse(attn, type, bh, tokens, tokens);
        ctx = Tensors.reuse(ctx, type, batch, tokens, dim);
        javaCore = useJavaCore(tokens, type) && !(attnDrop.isTraining() && attnDrop.p() > 0);
        if (javaCore) {
            AttentionKernel.forward(qkvOut, attn, ctx.reshape('c', batch * tokens, dim), (int) batch, (int) tokens,
                    numHeads, headDim, scale);
            probs = attnDrop.forward(attn);
            return projDrop.forward(proj.forward(ctx));
        }
        INDArray[] qv = qkvViews.get(qkvOut, m -> headBlocks(m, batch, tokens, 3));
        INDArray[] av = attnViews.get(attn, ViewCache::slices);
        for (int i = 0; i < n; i++) {
            Gemm.gemm(qv[i], qv[n + i], av[i], false, true, scale, 0.0);
        }
        Nd4j.exec(new SoftMax(attn, attn, -1));
        probs = attnDrop.forward(attn);
        INDArray[] pv = probsViews.get(probs, ViewCache::slices);
        ctxh = Tensors.reuse(ctxh, type, bh, tokens, headDim);
        INDArray[] cv = ctxhViews.get(ctxh, ViewCache::slices);
        for (int i = 0; i < n; i++) {
            Gemm.gemm(pv[i], qv[2 * n + i], cv[i], false, false, 1.0, 0.0);
        }
        mergeHeads(ctxh, ctx, batch, tokens, numHeads, headDim);
        return projDrop.forward(proj.forward(ctx));
    }

    /** @param gradOutput (B, N, D); @return the gradient with respect to the input, (B, N, D) */
    @Override
    public INDArray backward(INDArray gradOutput) {
        if (qkvOut == null) {
            throw new IllegalStateException("Attention.backward called before forward");
        }
        DataType type = gradOutput.dataType();
        long bh = batch * numHeads;
        int n = (int) bh;
        INDArray gctx = Tensors.contiguous(proj.backward(projDrop.backward(gradOutput)))
                .reshape('c', batch * tokens, dim);
        gradQkv = Tensors.reuse(gradQkv, type, batch, tokens, 3L * dim);
        if (javaCore) {
            AttentionKernel.backward(qkvOut, attn, gctx, gradQkv.reshape('c', batch * tokens, 3L * dim), (int) batch,
                    (int) tokens, numHeads, headDim, scale);
            return qkv.backward(gradQkv);
        }
        gradProbs = Tensors.reuse(gradProbs, type, bh, tokens, tokens);
        gradQkvh = Tensors.reuse(gradQkvh, type, 3 * bh, tokens, headDim);
        INDArray[] qv = qkvViews.get(qkvOut, m -> headBlocks(m, batch, tokens, 3));
        INDArray[] pv = probsViews.get(probs, ViewCache::slices);
        INDArray[] gcv = gradCtxViews.get(gctx, m -> headBlocks(m, batch, tokens, 1));
        INDArray[] gpv = gradProbsViews.get(gradProbs, ViewCache::slices);
        INDArray[] gqv = gradQkvhViews.get(gradQkvh, ViewCache::slices);
        for (int i = 0; i < n; i++) {
            Gemm.gemm(gcv[i], qv[2 * n + i], gpv[i], false, true, 1.0, 0.0);   // dP = dO V^T
            Gemm.gemm(pv[i], gcv[i], gqv[2 * n + i], true, false, 1.0, 0.0);  // dV = P^T dO
        }
        // softmax backward: dS = A * (dA - rowsum(dA * A)), in place in the gradient buffer
        INDArray gScores = attnDrop.backward(gradProbs);
        INDArray g2 = gScores.reshape('c', bh * tokens, tokens);
        INDArray a2 = attn.reshape('c', bh * tokens, tokens);
        RowKernels.softmaxBackward(g2, a2, g2);
        INDArray[] gsv = gScores == gradProbs ? gpv : gradScoresViews.get(gScores, ViewCache::slices);
        for (int i = 0; i < n; i++) {
            Gemm.gemm(gsv[i], qv[n + i], gqv[i], false, false, scale, 0.0);  // dQ = scale dS K
            Gemm.gemm(gsv[i], qv[i], gqv[n + i], true, false, scale, 0.0);   // dK = scale dS^T Q
        }
        Tensors.exec("permute", new INDArray[] {gradQkvh.reshape('c', 3, batch, numHeads, tokens, headDim)},
                new INDArray[] {gradQkv.reshape('c', batch, tokens, 3, numHeads, headDim)}, 1, 3, 0, 2, 4);
        return qkv.backward(gradQkv);
    }

    /**
     * Forward without keeping anything for backward: reads {@code x2d} (B*N, D), writes the result into the scratch
     * buffer {@code "attn_out"} and returns it. Through GEMM the attention scores are held for one sample at a time;
     * short sequences run in {@link AttentionKernel}.
     */
    INDArray forwardNoGrad(INDArray x2d, long b, long nTok, Scratch s) {
        DataType type = x2d.dataType();
        long rows = b * nTok;
        INDArray q = s.get("qkv", type, rows, 3L * dim);
        Scratch.linear(x2d, qkv, q);
        INDArray c = s.get("ctx", type, rows, dim);
        if (useJavaCore(nTok, type)) {
            INDArray probs = s.get("scores_all", type, b * numHeads, nTok, nTok);
            AttentionKernel.forward(q, probs, c, (int) b, (int) nTok, numHeads, headDim, scale);
        } else {
            INDArray scores = s.get("scores", type, numHeads, nTok, nTok);
            INDArray ch = s.get("ctxh", type, b * numHeads, nTok, headDim);
            INDArray[] qv = s.views("qkv", m -> headBlocks(m, b, nTok, 3));
            INDArray[] sv = s.views("scores", ViewCache::slices);
            INDArray[] cv = s.views("ctxh", ViewCache::slices);
            int n = (int) (b * numHeads);
            for (int sample = 0; sample < b; sample++) {
                for (int h = 0; h < numHeads; h++) {
                    int i = sample * numHeads + h;
                    Gemm.gemm(qv[i], qv[n + i], sv[h], false, true, scale, 0.0);
                }
                Nd4j.exec(new SoftMax(scores, scores, -1));
                for (int h = 0; h < numHeads; h++) {
                    int i = sample * numHeads + h;
                    Gemm.gemm(sv[h], qv[2 * n + i], cv[i], false, false, 1.0, 0.0);
                }
            }
            mergeHeads(ch, c, b, nTok, numHeads, headDim);
        }
        INDArray out = s.get("attn_out", type, rows, dim);
        Scratch.linear(c, proj, out);
        return out;
    }
}
