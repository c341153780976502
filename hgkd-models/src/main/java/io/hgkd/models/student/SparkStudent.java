package io.hgkd.models.student;

import io.hgkd.core.nn.BatchNorm2d;
import io.hgkd.core.nn.Conv2d;
import io.hgkd.core.nn.ConvTranspose2d;
import io.hgkd.core.nn.Identity;
import io.hgkd.core.nn.Init;
import io.hgkd.core.nn.Module;
import io.hgkd.core.nn.Sequential;
import io.hgkd.core.nn.Tensors;
import io.hgkd.core.sparse.ActiveMask;
import io.hgkd.core.sparse.SparseBatchNorm2d;
import io.hgkd.models.resnet.ResNet;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.apache.commons.math3.random.MersenneTwister;
import org.apache.commons.math3.random.RandomGenerator;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * SparK's student ({@code pretrain/spark.py}) with the H-GKD teacher-feature head, under SparK's parameter names so
 * that SparK checkpoints map onto it one to one:
 * <ul>
 *   <li>{@code sparse_encoder.sp_cnn.*}: the sparse {@link ResNet} (timm names after the prefix, see
 *       {@link EncoderExport});</li>
 *   <li>{@code dense_decoder.dec.{k}.up_sample.*}, {@code dense_decoder.dec.{k}.conv.{0,1,3,4}.*}: the
 *       {@link LightDecoder}; {@code dense_decoder.proj.*}: SparK's pixel head (Conv1x1 to the input channels);</li>
 *   <li>{@code densify_norms.{i}.*}: sparse BN over the encoder scale e_i (i = 0 is the smallest map);
 *       {@code densify_projs.{i}.*}: Conv(e_i to d_i = width / 2^i), kernel 1 for i = 0 and 3 (pad 1) otherwise,
 *       with bias (the identity when i = 0 and e_0 == d_0, which has no keys); {@code mask_tokens.{i}}: (1, e_i, 1, 1),
 *       no weight decay;</li>
 *   <li>{@code feature_head.*}: Conv(last decoder width to D_t, kernel = stride = P_t, bias), so the prediction lands
 *       on the teacher's token grid (H-GKD, not in SparK).</li>
 * </ul>
 * SparK's checkpoints also hold three deprecated, never-used buffers ({@link #SPARK_UNUSED_BUFFERS}) that this class
 * does not have; drop them before {@link #loadStateDict}.
 *
 * <p>Forward (SparK's steps 2-4): the input is masked and encoded sparsely; the four stage outputs, smallest first,
 * are densified (sparse BN, inactive positions filled with the scale's mask token, projection conv); the
 * {@link LightDecoder} decodes them; the heads read its output. With the small stem (downsample 8) the decoder has 3
 * blocks for 4 scales and adds the full-resolution scale after its last block (an extension documented on
 * {@link LightDecoder}).
 *
 * <p>Initialisation as SparK (method.md §3.4-3.5): encoder timm's; densify norms BN defaults; densify projections
 * PyTorch's Conv2d default; mask tokens trunc_normal(0, .02, ±.02); decoder convs, {@code proj} and the feature head
 * trunc_normal(.02) with bias 0; transposed convs kaiming_normal(fan_out, relu) with PyTorch's fan-out of the
 * {@code [Cin, Cout, 4, 4]} weight ({@code Cin * 16}) and bias 0; decoder BN 1/0. The random stream is seeded from the
 * encoder config's seed.
 */
public class SparkStudent extends Module {
    /** Deprecated buffers of SparK's checkpoints ({@code imn_m}, {@code imn_s}, {@code norm_black}), never used. */
    public static final Set<String> SPARK_UNUSED_BUFFERS = Set.of("imn_m", "imn_s", "norm_black");

    private final StudentConfig config;
    private final ResNet encoder;
    private final LightDecoder decoder;
    private final List<SparseBatchNorm2d> densifyNorms = new ArrayList<>();
    private final List<Module> densifyProjs = new ArrayList<>();
    private final MaskTokens maskTokens;
    private final Conv2d featureHead;

    private ActiveMask lastMask;
    private StudentOutput lastOutput;

    /** Builds and initialises the student. */
    public SparkStudent(StudentConfig config) {
        this.config = config;
        encoder = new ResNet(config.encoder());
        registerModule("sparse_encoder", new SparseEncoder(encoder));
        decoder = registerModule("dense_decoder", new LightDecoder(config.encoder().downsampleRatio(),
                config.decoderWidth(), config.pixelHead() ? config.encoder().inChans() : 0));

        int[] encWidths = encoder.featureChannels();
        int scales = encWidths.length;
        int[] e = new int[scales];
        Sequential norms = new Sequential();
        Sequential projs = new Sequential();
        int d = config.decoderWidth();
        for (int i = 0; i < scales; i++) {
            e[i] = encWidths[scales - 1 - i];
            SparseBatchNorm2d norm = new SparseBatchNorm2d(new BatchNorm2d(e[i]));
            densifyNorms.add(norm);
            norms.add(norm);
            Module proj = i == 0 && e[i] == d ? new Identity()
                    : new Conv2d(e[i], d, i == 0 ? 1 : 3, 1, i == 0 ? 0 : 1, true);
            densifyProjs.add(proj);
            projs.add(proj);
            d /= 2;
        }
        registerModule("densify_norms", norms);
        registerModule("densify_projs", projs);
        RandomGenerator rng = new MersenneTwister(config.encoder().seed() * 31 + 17);
        maskTokens = registerModule("mask_tokens", new MaskTokens(e, rng));
        featureHead = config.teacherDim() > 0 ? registerModule("feature_head", new Conv2d(decoder.outWidth(),
                config.teacherDim(), config.teacherPatch(), config.teacherPatch(), 0, true)) : null;
        initWeights(rng);
    }

    private void initWeights(RandomGenerator rng) {
        for (Module p : densifyProjs) {
            if (p instanceof Conv2d c) {
                Init.pytorchDefault(c.weight().data(), rng);
                Init.pytorchDefaultBias(c.bias().data(), Init.fanIn(c.weight().data()), rng);
            }
        }
        for (UNetBlock b : decoder.blocks()) {
            ConvTranspose2d up = b.upSample();
            Init.kaimingNormalFanOut(up.weight().data(), rng);
            up.bias().data().assign(0);
            for (Module m : b.conv().layers()) {
                if (m instanceof Conv2d c) {
                    Init.truncNormal(c.weight().data(), 0.02, rng);
                }
            }
        }
        for (Conv2d head : new Conv2d[] {decoder.proj(), featureHead}) {
            if (head != null) {
                Init.truncNormal(head.weight().data(), 0.02, rng);
                head.bias().data().assign(0);
            }
        }
    }

    /** The configuration. */
    public StudentConfig config() {
        return config;
    }

    /** The sparse encoder ({@code sparse_encoder.sp_cnn}). */
    public ResNet encoder() {
        return encoder;
    }

    /** The decoder ({@code dense_decoder}). */
    public LightDecoder decoder() {
        return decoder;
    }

    /**
     * One forward pass.
     *
     * @param x    (B, inChans, S, S) with S = {@link StudentConfig#inputSize()}
     * @param mask the SparK mask on the {@link StudentConfig#maskGrid()} grid (1 = visible); null runs the whole
     *             student dense (no masking, no mask tokens)
     * @return pixels (B, inChans, S, S) and/or features (B, D_t, S / P_t, S / P_t), module-owned buffers
     */
    public StudentOutput forward(INDArray x, ActiveMask mask) {
        Tensors.requireRank(x, 4, "SparkStudent");
        int s = config.inputSize();
        if (x.size(2) != s || x.size(3) != s) {
            throw new IllegalArgumentException("SparkStudent was built for " + s + "x" + s + " inputs, got "
                    + Tensors.shape(x));
        }
        if (mask != null && (mask.height() != config.maskGrid() || mask.width() != config.maskGrid())) {
            throw new IllegalArgumentException("SparkStudent expects a " + config.maskGrid() + "x"
                    + config.maskGrid() + " mask grid (input / downsample), got " + mask.height() + "x"
                    + mask.width());
        }
        lastMask = mask;
        List<INDArray> feats = encoder.features(x, mask);
        int scales = feats.size();
        List<INDArray> toDec = new ArrayList<>(scales);
        for (int i = 0; i < scales; i++) {
            INDArray h = densifyNorms.get(i).forward(feats.get(scales - 1 - i), mask);
            if (mask != null) {
                h = maskTokens.fill(i, h, mask);
            }
            toDec.add(densifyProjs.get(i).forward(h));
        }
        INDArray out = decoder.forward(toDec);
        lastOutput = new StudentOutput(decoder.proj() == null ? null : decoder.proj().forward(out),
                featureHead == null ? null : featureHead.forward(out));
        return lastOutput;
    }

    /** Dense forward ({@code mask = null}) returning the feature head's output, or the pixels without one. */
    @Override
    public INDArray forward(INDArray x) {
        StudentOutput o = forward(x, null);
        return o.features() != null ? o.features() : o.pixels();
    }

    /**
     * Back-propagates through the heads, the decoder, densify (projections, mask tokens, sparse BN) and the sparse
     * encoder, accumulating every parameter gradient.
     *
     * @param gradPixels   gradient of {@link StudentOutput#pixels()}, or null
     * @param gradFeatures gradient of {@link StudentOutput#features()}, or null
     * @return the gradient with respect to the input (zero at masked pixels)
     */
    public INDArray backward(INDArray gradPixels, INDArray gradFeatures) {
        if (gradPixels == null && gradFeatures == null) {
            throw new IllegalArgumentException("SparkStudent.backward needs a pixel or a feature gradient");
        }
        if (gradPixels != null && decoder.proj() == null || gradFeatures != null && featureHead == null) {
            throw new IllegalArgumentException("gradient for a head this student does not have (pixelHead="
                    + config.pixelHead() + ", teacherDim=" + config.teacherDim() + ")");
        }
        INDArray g = gradPixels == null ? null : decoder.proj().backward(gradPixels);
        if (gradFeatures != null) {
            INDArray gf = featureHead.backward(gradFeatures);
            g = g == null ? gf : g.add(gf);
        }
        List<INDArray> gToDec = decoder.backwardScales(g);
        int scales = gToDec.size();
        INDArray[] gFeats = new INDArray[scales];
        for (int i = 0; i < scales; i++) {
            INDArray gi = densifyProjs.get(i).backward(gToDec.get(i));
            if (lastMask != null) {
                gi = maskTokens.backwardFill(i, gi);
            }
            gFeats[scales - 1 - i] = densifyNorms.get(i).backward(gi);
        }
        return encoder.backwardFeatures(Arrays.asList(gFeats));
    }

    /** Backward of {@link #forward(INDArray)}: the gradient of whichever output it returned. */
    @Override
    public INDArray backward(INDArray gradOutput) {
        return lastOutput.features() != null ? backward(null, gradOutput) : backward(gradOutput, null);
    }
}
