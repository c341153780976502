package io.hgkd.train.finetune;

import io.hgkd.core.nn.Init;
import io.hgkd.core.nn.Linear;
import io.hgkd.core.nn.Module;
import io.hgkd.core.nn.LoadReport;
import io.hgkd.models.vit.VisionTransformer;
import io.hgkd.models.vit.VitConfig;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.commons.math3.random.MersenneTwister;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * A ViT classifier on mean-pooled final tokens: a {@link VisionTransformer} encoder without head (state-dict keys
 * under {@code encoder.}, exactly the H-GKD teacher's layout), the mean of its patch tokens after the final norm
 * ({@link #meanPatchTokens}; the class token is left out) and a {@code head} Linear. This is timm's
 * {@code global_pool='avg', fc_norm=False} head, and it pools the very tokens a distillation teacher hands to its
 * student and a linear probe ({@code hgkd probe}) classifies, so supervised fine-tuning shapes exactly those.
 * The head starts as in MAE's fine-tuning ({@code trunc_normal_(std=2e-5)} weight, zero bias).
 */
public final class VitClassifier extends Module {
    /** Prefix of the encoder's keys in the state dict. */
    public static final String ENCODER_PREFIX = "encoder.";

    private final VisionTransformer encoder;
    private final Linear head;
    private final int prefix;
    private long[] tokenShape;

    /**
     * @param encoderConfig the encoder ({@code numClasses} must be 0); initialised from its seed
     * @param numClasses    K
     * @param headSeed      seed of the head's initialisation
     */
    public VitClassifier(VitConfig encoderConfig, int numClasses, long headSeed) {
        if (encoderConfig.numClasses() != 0 || numClasses < 1) {
            throw new IllegalArgumentException("VitClassifier needs an encoder config with numClasses 0 and >= 1"
                    + " classes, got " + encoderConfig.numClasses() + " and " + numClasses);
        }
        encoder = registerModule("encoder", new VisionTransformer(encoderConfig));
        head = registerModule("head", new Linear(encoderConfig.embedDim(), numClasses));
        Init.truncNormal(head.weight().data(), 2e-5, new MersenneTwister(headSeed));
        head.bias().data().assign(0);
        prefix = encoder.numPrefixTokens();
    }

    /** The encoder (its state dict is the teacher's layout). */
    public VisionTransformer encoder() {
        return encoder;
    }

    /** The classifier head. */
    public Linear head() {
        return head;
    }

    /**
     * Loads encoder weights with ViT names (e.g. {@code hgkd export} of an MAE run). Extra keys (a head, an MAE
     * decoder) are ignored; a missing or misshapen encoder key is an error naming it.
     */
    public LoadReport loadEncoder(Map<String, INDArray> weights, String source) {
        LoadReport r = encoder.loadStateDict(weights, false);
        if (!r.missing().isEmpty() || !r.wrongShape().isEmpty()) {
            throw new IllegalArgumentException(source + " does not fit the ViT encoder " + encoder.config() + ": "
                    + r);
        }
        return r;
    }

    /** The encoder's weights with ViT names (no {@code head}): what {@code DistillJobConfig.teacherWeights} loads. */
    public Map<String, INDArray> encoderStateDict() {
        return new LinkedHashMap<>(encoder.stateDict());
    }

    /**
     * The mean of the patch tokens (the class token and other prefix tokens left out).
     *
     * @param tokens (B, prefix + N, D) final tokens
     * @return (B, D), a new array
     */
    public static INDArray meanPatchTokens(INDArray tokens, int prefix) {
        if (tokens.rank() != 3 || tokens.size(1) <= prefix) {
            throw new IllegalArgumentException("expected (B, " + prefix + " + N, D) tokens, got "
                    + Arrays.toString(tokens.shape()));
        }
        return tokens.get(NDArrayIndex.all(), NDArrayIndex.interval(prefix, tokens.size(1)), NDArrayIndex.all())
                .mean(1);
    }

    @Override
    public INDArray forward(INDArray x) {
        INDArray t = encoder.forwardTokens(x);
        tokenShape = t.shape();
        return head.forward(meanPatchTokens(t, prefix));
    }

    @Override
    public INDArray backward(INDArray gradOutput) {
        if (tokenShape == null) {
            throw new IllegalStateException("backward before forward");
        }
        INDArray g = head.backward(gradOutput);
        long b = tokenShape[0];
        long t = tokenShape[1];
        long d = tokenShape[2];
        long n = t - prefix;
        INDArray gTokens = Nd4j.zeros(g.dataType(), b, t, d);
        gTokens.get(NDArrayIndex.all(), NDArrayIndex.interval(prefix, t), NDArrayIndex.all())
                .assign(g.reshape(b, 1, d).div(n).broadcast(b, n, d));
        tokenShape = null;
        return encoder.backwardTokens(gTokens);
    }
}
