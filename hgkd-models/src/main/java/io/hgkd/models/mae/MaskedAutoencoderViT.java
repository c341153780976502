package io.hgkd.models.mae;

import io.hgkd.core.loss.MaskedMse;
import io.hgkd.core.mim.Patchify;
import io.hgkd.core.mim.PatchNorm;
import io.hgkd.core.nn.Init;
import io.hgkd.core.nn.LayerNorm;
import io.hgkd.core.nn.Linear;
import io.hgkd.core.nn.Module;
import io.hgkd.core.nn.Parameter;
import io.hgkd.core.nn.Sequential;
import io.hgkd.core.nn.Tensors;
import io.hgkd.models.vit.Block;
import io.hgkd.models.vit.PatchEmbed;
import io.hgkd.models.vit.PosEmbed;
import io.hgkd.models.vit.VitConfig;
import io.hgkd.models.vit.VitInit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.math3.random.MersenneTwister;
import org.apache.commons.math3.random.RandomGenerator;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.MulOp;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * MAE pretraining model, as {@code facebookresearch/mae models_mae.MaskedAutoencoderViT}, with a hand-written backward.
 *
 * <p>Encoder: {@code patch_embed}, add {@code pos_embed[1:]}, drop patches by {@link RandomMasking}, prepend
 * {@code cls_token + pos_embed[0]}, {@code blocks}, {@code norm}. Decoder: {@code decoder_embed}, append
 * {@code mask_token} for removed patches, unshuffle with {@code ids_restore}, add {@code decoder_pos_embed},
 * {@code decoder_blocks}, {@code decoder_norm}, {@code decoder_pred} (to P*P*C values per patch, cls dropped). Loss:
 * per-patch MSE against the patchified image (optionally normalised per patch, unbiased variance, eps 1e-6),
 * averaged over removed patches: {@code sum(l * mask) / sum(mask)}.
 *
 * <p>State-dict keys are MAE's: {@code cls_token, pos_embed, mask_token, decoder_pos_embed, patch_embed.*,
 * blocks.*, norm.*, decoder_embed.*, decoder_blocks.*, decoder_norm.*, decoder_pred.*}. Both position embeddings are
 * fixed sin-cos parameters with {@code requiresGrad = false}. {@link #encoderStateDict()} gives the keys a
 * {@link io.hgkd.models.vit.VisionTransformer} (same encoder config) loads.
 *
 * <p>{@link #backward} returns the full gradient of the loss with respect to the images: through the encoder and
 * through the (patchified, normalised) target. PyTorch's MAE never needs it (the images are a leaf without grad),
 * but it makes this a complete {@link Module}.
 */
public class MaskedAutoencoderViT extends Module {
    private static final double NORM_PIX_EPS = 1e-6;

    private final MaeConfig config;
    private final VitConfig enc;
    private final PatchEmbed patchEmbed;
    private final Parameter clsToken;
    private final Parameter posEmbed;
    private final Sequential blocks;
    private final List<Block> blockList = new ArrayList<>();
    private final LayerNorm norm;
    private final Linear decoderEmbed;
    private final Parameter maskToken;
    private final Parameter decoderPosEmbed;
    private final Sequential decoderBlocks;
    private final List<Block> decoderBlockList = new ArrayList<>();
    private final LayerNorm decoderNorm;
    private final Linear decoderPred;
    private final RandomGenerator maskRng;
    private final MaskedMse mse = new MaskedMse(0.0);

    private RandomMasking plan;
    private long[] imgShape;
    // step buffers, reused while the batch shape stays the same (no native garbage per step)
    private INDArray encTable;   // (B*L + 1, D): patch tokens + pos_embed[1:], then cls + pos_embed[0]
    private INDArray encIn;      // (B*(K+1), D) encoder input
    private INDArray decTable;   // (B*(K+1) + 1, DD): decoder_embed output, then mask_token
    private INDArray decIn;      // (B*(L+1), DD) decoder input
    private INDArray predIn;     // (B, L, DD) decoder output without cls
    private INDArray patches;
    private INDArray target;
    private INDArray pixRstd;    // (B*L) 1 / sqrt(var + eps) of each patch (norm_pix_loss)
    private INDArray pixTmp;
    private INDArray pixMean;
    private INDArray pixDot;
    private INDArray gPatches;
    private INDArray gImg;
    private INDArray gH;
    private INDArray gMasked;
    private INDArray gLatentIn;
    private INDArray gClsRows;
    private INDArray gEncTable;
    private INDArray gX;
    private int b;
    private int l;
    private int k;

    /** Builds the model with MAE's {@code initialize_weights}, drawn from {@code config.encoder().seed()}. */
    public MaskedAutoencoderViT(MaeConfig config) {
        this.config = config;
        this.enc = config.encoder();
        int d = enc.embedDim();
        int dd = config.decoderEmbedDim();
        int n = enc.numPatches();
        RandomGenerator dropRng = new MersenneTwister(enc.seed() ^ 0x5DEECE66DL);
        this.maskRng = new MersenneTwister(enc.seed() ^ 0x2545F4914F6CDD1DL);
        this.patchEmbed = registerModule("patch_embed",
                new PatchEmbed(enc.imgSize(), enc.patchSize(), enc.inChans(), d));
        this.clsToken = registerParameter("cls_token", Nd4j.zeros(DataType.FLOAT, 1, 1, d), true);
        this.posEmbed = registerParameter("pos_embed", Nd4j.zeros(DataType.FLOAT, 1, n + 1, d), true);
        posEmbed.setRequiresGrad(false);
        this.blocks = registerModule("blocks", new Sequential());
        for (int i = 0; i < enc.depth(); i++) {
            double dpr = enc.depth() == 1 ? 0.0 : enc.dropPathRate() * i / (enc.depth() - 1);
            Block blk = new Block(d, enc.numHeads(), enc.mlpHiddenDim(), enc.qkvBias(), enc.dropRate(),
                    enc.attnDropRate(), dpr, enc.lnEps(), dropRng);
            blocks.add(blk);
            blockList.add(blk);
        }
        this.norm = registerModule("norm", new LayerNorm(d, enc.lnEps(), true));
        this.decoderEmbed = registerModule("decoder_embed", new Linear(d, dd));
        this.maskToken = registerParameter("mask_token", Nd4j.zeros(DataType.FLOAT, 1, 1, dd), true);
        this.decoderPosEmbed = registerParameter("decoder_pos_embed", Nd4j.zeros(DataType.FLOAT, 1, n + 1, dd), true);
        decoderPosEmbed.setRequiresGrad(false);
        this.decoderBlocks = registerModule("decoder_blocks", new Sequential());
        int decHidden = (int) (dd * enc.mlpRatio());
        for (int i = 0; i < config.decoderDepth(); i++) {
            Block blk = new Block(dd, config.decoderNumHeads(), decHidden, enc.qkvBias(), 0, 0, 0, enc.lnEps(),
                    dropRng);
            decoderBlocks.add(blk);
            decoderBlockList.add(blk);
        }
        this.decoderNorm = registerModule("decoder_norm", new LayerNorm(dd, enc.lnEps(), true));
        int p = enc.patchSize();
        this.decoderPred = registerModule("decoder_pred", new Linear(dd, p * p * enc.inChans()));
        initializeWeights(new MersenneTwister(enc.seed()));
    }

    /** MAE's {@code initialize_weights}. */
    private void initializeWeights(RandomGenerator rng) {
        int g = enc.gridSize();
        posEmbed.data().assign(PosEmbed.sincos2d(enc.embedDim(), g, true).reshape(posEmbed.data().shape()));
        decoderPosEmbed.data().assign(PosEmbed.sincos2d(config.decoderEmbedDim(), g, true)
                .reshape(decoderPosEmbed.data().shape()));
        VitInit.maePatchEmbed(patchEmbed.proj(), rng);
        Init.normal(clsToken.data(), 0, 0.02, rng);
        Init.normal(maskToken.data(), 0, 0.02, rng);
        VitInit.maeLinearAndNorm(this, rng);
    }

    public MaeConfig config() {
        return config;
    }

    public PatchEmbed patchEmbed() {
        return patchEmbed;
    }

    public List<Block> blocks() {
        return java.util.Collections.unmodifiableList(blockList);
    }

    public List<Block> decoderBlocks() {
        return java.util.Collections.unmodifiableList(decoderBlockList);
    }

    /**
     * The encoder's tensors under the keys of a {@link io.hgkd.models.vit.VisionTransformer} built from
     * {@code config().encoder()} (no decoder keys, no {@code mask_token}); live arrays, not copies.
     */
    public Map<String, INDArray> encoderStateDict() {
        Map<String, INDArray> out = new LinkedHashMap<>();
        stateDict().forEach((key, v) -> {
            if (!key.startsWith("decoder_") && !key.equals("mask_token")) {
                out.put(key, v);
            }
        });
        return out;
    }

    /**
     * Forward with noise drawn from this model's seeded generator ({@code torch.rand} analogue).
     *
     * @param imgs (B, C, H, W) normalised images
     */
    public MaeOutput forwardMae(INDArray imgs) {
        Tensors.requireRank(imgs, 4, "MaskedAutoencoderViT");
        return forwardMae(imgs, RandomMasking.random((int) imgs.size(0), enc.numPatches(), config.maskRatio(),
                maskRng));
    }

    /**
     * Forward with explicit noise (B, L), as {@code random_masking} draws it: the patches with the smallest noise stay.
     */
    public MaeOutput forwardMae(INDArray imgs, INDArray noise) {
        Tensors.requireRank(noise, 2, "MaskedAutoencoderViT noise");
        if (noise.size(0) != imgs.size(0) || noise.size(1) != enc.numPatches()) {
            throw new IllegalArgumentException("noise must be (B, L) = (" + imgs.size(0) + ", " + enc.numPatches()
                    + "), got " + Tensors.shape(noise));
        }
        return forwardMae(imgs, RandomMasking.fromNoise(noise, config.maskRatio()));
    }

    /** Forward with a given masking (its {@code lenKeep} must follow this model's mask ratio). */
    public MaeOutput forwardMae(INDArray imgs, RandomMasking masking) {
        Tensors.requireRank(imgs, 4, "MaskedAutoencoderViT");
        if (masking.batch() != imgs.size(0) || masking.numPatches() != enc.numPatches()
                || masking.lenKeep() != config.lenKeep()) {
            throw new IllegalArgumentException("masking for batch " + masking.batch() + ", " + masking.numPatches()
                    + " patches, " + masking.lenKeep() + " kept does not fit images " + Tensors.shape(imgs) + " with "
                    + enc.numPatches() + " patches and " + config.lenKeep() + " kept");
        }
        DataType type = imgs.dataType();
        plan = masking;
        imgShape = imgs.shape();
        INDArray pe = patchEmbed.forward(imgs);
        b = (int) pe.size(0);
        l = (int) pe.size(1);
        k = plan.lenKeep();
        int d = enc.embedDim();
        int dd = config.decoderEmbedDim();

        // encoder input: rows of [patches + pos_embed[1:] ; cls + pos_embed[0]] gathered per sample
        INDArray pos = posEmbed.data().castTo(type).reshape(l + 1, d);
        encTable = Tensors.reuse(encTable, type, (long) b * l + 1, d);
        encTable.get(NDArrayIndex.interval(0, (long) b * l), NDArrayIndex.all()).reshape('c', b, (long) l * d)
                .assign(pe.reshape('c', b, (long) l * d))
                .addiRowVector(pos.get(NDArrayIndex.interval(1, l + 1), NDArrayIndex.all()).reshape((long) l * d));
        encTable.get(NDArrayIndex.interval((long) b * l, (long) b * l + 1), NDArrayIndex.all())
                .assign(clsToken.data().castTo(type).reshape(1, d)).addi(pos.getRow(0).reshape(1, d));
        encIn = Tensors.reuse(encIn, type, (long) b * (k + 1), d);
        Nd4j.pullRows(encTable, encIn, 1, encoderRows());
        INDArray h = encIn.reshape('c', b, k + 1, d);
        for (Block blk : blockList) {
            h = blk.forward(h);
        }
        INDArray latent = norm.forward(h);

        // decoder: embed, append mask tokens, unshuffle, add decoder_pos_embed
        INDArray y = decoderEmbed.forward(latent).reshape('c', (long) b * (k + 1), dd);
        decTable = Tensors.reuse(decTable, type, (long) b * (k + 1) + 1, dd);
        decTable.get(NDArrayIndex.interval(0, (long) b * (k + 1)), NDArrayIndex.all()).assign(y);
        decTable.get(NDArrayIndex.interval((long) b * (k + 1), (long) b * (k + 1) + 1), NDArrayIndex.all())
                .assign(maskToken.data().castTo(type).reshape(1, dd));
        decIn = Tensors.reuse(decIn, type, (long) b * (l + 1), dd);
        Nd4j.pullRows(decTable, decIn, 1, decoderRows());
        decIn.reshape('c', b, (long) (l + 1) * dd)
                .addiRowVector(decoderPosEmbed.data().castTo(type).reshape((long) (l + 1) * dd));
        h = decIn.reshape('c', b, l + 1, dd);
        for (Block blk : decoderBlockList) {
            h = blk.forward(h);
        }
        h = decoderNorm.forward(h);
        predIn = Tensors.reuse(predIn, type, b, l, dd);
        predIn.assign(h.get(NDArrayIndex.all(), NDArrayIndex.interval(1, l + 1), NDArrayIndex.all()));
        INDArray pred = decoderPred.forward(predIn);

        int p = enc.patchSize();
        long n = (long) p * p * imgs.size(1);
        patches = Patchify.patchify(imgs, p, Tensors.reuse(patches, type, b, l, n));
        target = config.normPixLoss() ? normPix(patches) : patches;
        INDArray mask = plan.mask(type);
        double loss = mse.forward(pred, target, mask);
        return new MaeOutput(loss, pred, mask, plan.idsRestoreArray(), plan);
    }

    /**
     * MAE's {@code norm_pix_loss} target, {@code (x - mean) / sqrt(var_unbiased + eps)} per patch (as
     * {@link PatchNorm#normalize}), into a reused buffer; keeps {@code 1 / sqrt(var + eps)} for the backward.
     */
    private INDArray normPix(INDArray x) {
        DataType type = x.dataType();
        long n = x.size(2);
        long rows = x.length() / n;
        INDArray x2 = x.reshape('c', rows, n);
        target = Tensors.reuse(target == x ? null : target, type, x.shape());
        INDArray y2 = target.reshape('c', rows, n);
        pixMean = Tensors.reuse(pixMean, type, rows);
        x2.mean(pixMean, 1);
        y2.assign(x2).subiColumnVector(pixMean.reshape('c', rows, 1));
        pixTmp = Tensors.reuse(pixTmp, type, rows, n);
        Nd4j.exec(new MulOp(y2, y2, pixTmp));
        pixRstd = Tensors.reuse(pixRstd, type, rows);
        pixTmp.sum(pixRstd, 1);
        Transforms.pow(pixRstd.divi(n - 1).addi(NORM_PIX_EPS), -0.5, false);
        y2.muliColumnVector(pixRstd.reshape('c', rows, 1));
        return target;
    }

    /** Rows of {@code [x (B*L) ; cls]} forming each sample's encoder input: cls, then the kept patches in order. */
    private int[] encoderRows() {
        int[] idx = new int[b * (k + 1)];
        for (int s = 0; s < b; s++) {
            idx[s * (k + 1)] = b * l;
            for (int j = 0; j < k; j++) {
                idx[s * (k + 1) + 1 + j] = s * l + plan.idsShuffle()[s][j];
            }
        }
        return idx;
    }

    /** Rows of {@code [y (B*(1+K)) ; mask_token]} forming each sample's unshuffled decoder input. */
    private int[] decoderRows() {
        int[] idx = new int[b * (l + 1)];
        for (int s = 0; s < b; s++) {
            idx[s * (l + 1)] = s * (k + 1);
            for (int j = 0; j < l; j++) {
                int r = plan.idsRestore()[s][j];
                idx[s * (l + 1) + 1 + j] = r < k ? s * (k + 1) + 1 + r : b * (k + 1);
            }
        }
        return idx;
    }

    /** The loss for images with noise from the seeded generator, as a scalar array (the {@link Module} contract). */
    @Override
    public INDArray forward(INDArray imgs) {
        return Nd4j.scalar(imgs.dataType(), forwardMae(imgs).loss());
    }

    /** Backward of the last forward from d(objective)/d(loss) = 1; returns the image gradient. */
    public INDArray backward() {
        return backward(1.0);
    }

    /**
     * Backward from a scalar (or one-element) upstream gradient of the loss.
     *
     * @return the gradient with respect to the images, (B, C, H, W), a buffer of this model that the next backward
     *         overwrites
     */
    @Override
    public INDArray backward(INDArray gradOutput) {
        if (gradOutput.length() != 1) {
            throw new IllegalArgumentException("the MAE loss is a scalar: its gradient must have one element, got "
                    + Tensors.shape(gradOutput));
        }
        return backward(gradOutput.getDouble(0));
    }

    /**
     * Backward of {@code upstream * loss}: accumulates every parameter gradient, returns the image gradient (a buffer
     * of this model that the next backward overwrites).
     */
    public INDArray backward(double upstream) {
        return backward(upstream, true);
    }

    /**
     * Backward of {@code upstream * loss} into the parameter gradients only, for images that need no gradient (a
     * training step): skips the target path and the patch embedding's image gradient, as PyTorch does for an input
     * without {@code requires_grad}. The parameter gradients are those of {@link #backward(double)}.
     */
    public void backwardParameters(double upstream) {
        backward(upstream, false);
    }

    private INDArray backward(double upstream, boolean imageGrad) {
        if (plan == null) {
            throw new IllegalStateException("MaskedAutoencoderViT.backward called before forward");
        }
        INDArray gPred = mse.backwardShared(upstream);
        DataType type = gPred.dataType();
        int d = enc.embedDim();
        int dd = config.decoderEmbedDim();
        int p = enc.patchSize();
        int c = (int) imgShape[1];

        // target path: loss depends on (pred - target)
        if (imageGrad) {
            gPatches = Tensors.reuse(gPatches, type, gPred.shape());
            gPatches.assign(gPred).negi();
            if (config.normPixLoss()) {
                normPixBackward(gPatches);
            }
            gImg = Patchify.unpatchify(gPatches, p, c, (int) (imgShape[2] / p), (int) (imgShape[3] / p),
                    Tensors.reuse(gImg, type, imgShape));
        }

        // decoder
        gH = Tensors.reuse(gH, type, b, l + 1, dd);
        gH.get(NDArrayIndex.all(), NDArrayIndex.interval(0, 1), NDArrayIndex.all()).assign(0);
        gH.get(NDArrayIndex.all(), NDArrayIndex.interval(1, l + 1), NDArrayIndex.all())
                .assign(decoderPred.backward(gPred));
        INDArray g = decoderNorm.backward(gH);
        for (int i = decoderBlockList.size() - 1; i >= 0; i--) {
            g = decoderBlockList.get(i).backward(g);
        }
        INDArray gFull = Tensors.contiguous(g).reshape('c', (long) b * (l + 1), dd);
        if (decoderPosEmbed.requiresGrad()) {
            decoderPosEmbed.accumulate(gFull.reshape('c', b, (long) (l + 1) * dd).sum(0).reshape(1, l + 1, dd));
        }
        int[] yRows = new int[b * (k + 1)];
        int[] maskedRows = new int[b * (l - k)];
        for (int s = 0; s < b; s++) {
            yRows[s * (k + 1)] = s * (l + 1);
            for (int j = 0; j < l; j++) {
                int row = s * (l + 1) + 1 + plan.idsShuffle()[s][j];
                if (j < k) {
                    yRows[s * (k + 1) + 1 + j] = row;
                } else {
                    maskedRows[s * (l - k) + j - k] = row;
                }
            }
        }
        gMasked = Tensors.reuse(gMasked, type, (long) b * (l - k), dd);
        Nd4j.pullRows(gFull, gMasked, 1, maskedRows);
        maskToken.accumulate(gMasked.sum(0).reshape(1, 1, dd));
        gLatentIn = Tensors.reuse(gLatentIn, type, (long) b * (k + 1), dd);
        Nd4j.pullRows(gFull, gLatentIn, 1, yRows);
        INDArray gLatent = decoderEmbed.backward(gLatentIn.reshape('c', b, k + 1, dd));

        // encoder
        g = norm.backward(gLatent);
        for (int i = blockList.size() - 1; i >= 0; i--) {
            g = blockList.get(i).backward(g);
        }
        INDArray gEnc = Tensors.contiguous(g).reshape('c', (long) b * (k + 1), d);
        int[] clsRows = new int[b];
        int[] xRows = new int[b * l];
        for (int s = 0; s < b; s++) {
            clsRows[s] = s * (k + 1);
            for (int j = 0; j < l; j++) {
                int r = plan.idsRestore()[s][j];
                xRows[s * l + j] = r < k ? s * (k + 1) + 1 + r : b * (k + 1);
            }
        }
        gClsRows = Tensors.reuse(gClsRows, type, b, d);
        Nd4j.pullRows(gEnc, gClsRows, 1, clsRows);
        INDArray gCls = gClsRows.sum(0).reshape(1, d);
        clsToken.accumulate(gCls.reshape(1, 1, d));
        // rows of [gEnc ; 0]: removed patches get no gradient
        gEncTable = Tensors.reuse(gEncTable, type, (long) b * (k + 1) + 1, d);
        gEncTable.get(NDArrayIndex.interval(0, (long) b * (k + 1)), NDArrayIndex.all()).assign(gEnc);
        gEncTable.get(NDArrayIndex.interval((long) b * (k + 1), (long) b * (k + 1) + 1), NDArrayIndex.all())
                .assign(0);
        gX = Tensors.reuse(gX, type, (long) b * l, d);
        Nd4j.pullRows(gEncTable, gX, 1, xRows);
        if (posEmbed.requiresGrad()) {
            INDArray gPos = Nd4j.concat(0, gCls, gX.reshape('c', b, (long) l * d).sum(0).reshape(l, d));
            posEmbed.accumulate(gPos.reshape(1, l + 1, d));
        }
        if (imageGrad) {
            gImg.addi(patchEmbed.backward(gX.reshape('c', b, l, d)));
        } else {
            patchEmbed.backwardParameters(gX.reshape('c', b, l, d));
        }
        plan = null;
        return imageGrad ? gImg : null;
    }

    /**
     * Gradient through {@code y = (x - mean) / sqrt(var_unbiased + eps)} per patch, in place in {@code g}:
     * {@code dx = s (g - mean(g) - y * sum(g y) / (n - 1))} with {@code s = 1 / sqrt(var + eps)} from the forward.
     */
    private void normPixBackward(INDArray g) {
        long n = g.size(2);
        long rows = g.length() / n;
        INDArray g2 = g.reshape('c', rows, n);
        INDArray y2 = target.reshape('c', rows, n);
        pixTmp = Tensors.reuse(pixTmp, g.dataType(), rows, n);
        Nd4j.exec(new MulOp(g2, y2, pixTmp));
        pixDot = Tensors.reuse(pixDot, g.dataType(), rows);
        pixTmp.sum(pixDot, 1).divi(n - 1);
        g2.mean(pixMean, 1);
        g2.subiColumnVector(pixMean.reshape('c', rows, 1));
        pixTmp.assign(y2).muliColumnVector(pixDot.reshape('c', rows, 1));
        g2.subi(pixTmp).muliColumnVector(pixRstd.reshape('c', rows, 1));
    }
}
