package io.hgkd.models.vit;

import io.hgkd.core.nn.DropPath;
import io.hgkd.core.nn.LayerNorm;
import io.hgkd.core.nn.Module;
import io.hgkd.core.nn.Tensors;
import org.apache.commons.math3.random.RandomGenerator;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.AddOp;
import org.nd4j.linalg.factory.Nd4j;

/**
 * timm's pre-norm transformer {@code Block}:
 * {@code x = x + drop_path1(attn(norm1(x)))}, then {@code x = x + drop_path2(mlp(norm2(x)))}. No layer scale, no
 * qk-norm (as timm's defaults and MAE). Input and output are {@code (B, N, D)}.
 */
public class Block extends Module {
    private final double lnEps;
    private final LayerNorm norm1;
    private final Attention attn;
    private final DropPath dropPath1;
    private final LayerNorm norm2;
    private final Mlp mlp;
    private final DropPath dropPath2;

    private INDArray mid;
    private INDArray out;

    /**
     * @param dim          D
     * @param numHeads     attention heads
     * @param mlpHidden    MLP hidden width
     * @param qkvBias      bias on the qkv projection
     * @param dropRate     dropout after the attention/MLP projections and inside the MLP
     * @param attnDropRate dropout on the attention probabilities
     * @param dropPathRate stochastic depth of both residual branches
     * @param lnEps        LayerNorm eps
     * @param rng          generator of the dropout and drop-path draws
     */
    public Block(int dim, int numHeads, int mlpHidden, boolean qkvBias, double dropRate, double attnDropRate,
                 double dropPathRate, double lnEps, RandomGenerator rng) {
        this.lnEps = lnEps;
        this.norm1 = registerModule("norm1", new LayerNorm(dim, lnEps, true));
        this.attn = registerModule("attn", new Attention(dim, numHeads, qkvBias, attnDropRate, dropRate, rng));
        this.dropPath1 = registerModule("drop_path1", new DropPath(dropPathRate, rng));
        this.norm2 = registerModule("norm2", new LayerNorm(dim, lnEps, true));
        this.mlp = registerModule("mlp", new Mlp(dim, mlpHidden, dropRate, rng));
        this.dropPath2 = registerModule("drop_path2", new DropPath(dropPathRate, rng));
    }

    public LayerNorm norm1() {
        return norm1;
    }

    public Attention attn() {
        return attn;
    }

    public LayerNorm norm2() {
        return norm2;
    }

    public Mlp mlp() {
        return mlp;
    }

    /** The stochastic-depth rate of this block. */
    public double dropPathRate() {
        return dropPath1.p();
    }

    /** @param x (B, N, D); @return (B, N, D), a buffer owned by this block */
    @Override
    public INDArray forward(INDArray x) {
        Tensors.requireRank(x, 3, "Block");
        INDArray a = dropPath1.forward(attn.forward(norm1.forward(x)));
        mid = Tensors.reuse(mid, x.dataType(), x.shape());
        Nd4j.exec(new AddOp(x, a, mid));
        INDArray m = dropPath2.forward(mlp.forward(norm2.forward(mid)));
        out = Tensors.reuse(out, x.dataType(), x.shape());
        Nd4j.exec(new AddOp(mid, m, out));
        return out;
    }

    @Override
    public INDArray backward(INDArray gradOutput) {
        INDArray gMid = norm2.backward(mlp.backward(dropPath2.backward(gradOutput)));
        gMid.addi(gradOutput);
        INDArray gx = norm1.backward(attn.backward(dropPath1.backward(gMid)));
        return gx.addi(gMid);
    }

    /**
     * Applies the block in place to the residual stream {@code x2d} (B*N, D) without keeping anything for backward
     * (dropout and drop path must be inactive).
     */
    void forwardNoGrad(INDArray x2d, long b, long nTok, Scratch s) {
        INDArray ln = s.get("ln", x2d.dataType(), x2d.shape());
        Scratch.layerNorm(x2d, norm1, lnEps, ln);
        x2d.addi(attn.forwardNoGrad(ln, b, nTok, s));
        Scratch.layerNorm(x2d, norm2, lnEps, ln);
        x2d.addi(mlp.forwardNoGrad(ln, s));
    }
}
