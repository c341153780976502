package io.hgkd.models.vit;

import io.hgkd.core.nn.Conv2d;
import io.hgkd.core.nn.Init;
import io.hgkd.core.nn.LayerNorm;
import io.hgkd.core.nn.Linear;
import io.hgkd.core.nn.Module;
import org.apache.commons.math3.random.RandomGenerator;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The weight initialisations of MAE ({@code models_mae.py initialize_weights / _init_weights}) and timm
 * ({@code init_weights_vit_timm}), applied to module trees. Used by {@link VisionTransformer} and by the MAE model.
 */
public final class VitInit {
    private VitInit() {
    }

    /**
     * MAE's {@code _init_weights} over every module under {@code root}: Linear weights xavier-uniform, Linear biases
     * 0, LayerNorm weight 1 and bias 0.
     */
    public static void maeLinearAndNorm(Module root, RandomGenerator rng) {
        visit(root, m -> {
            if (m instanceof Linear lin) {
                Init.xavierUniform(lin.weight().data(), 1.0, rng);
                if (lin.bias() != null) {
                    Init.constant(lin.bias().data(), 0);
                }
            } else if (m instanceof LayerNorm ln && ln.weight() != null) {
                Init.constant(ln.weight().data(), 1);
                Init.constant(ln.bias().data(), 0);
            }
        });
    }

    /**
     * timm's {@code init_weights_vit_timm} over every module under {@code root}: Linear weights trunc-normal
     * (std 0.02, bounds ±2), Linear biases 0; LayerNorms 1/0 (PyTorch's default, which timm keeps).
     */
    public static void timmLinearAndNorm(Module root, RandomGenerator rng) {
        visit(root, m -> {
            if (m instanceof Linear lin) {
                Init.truncNormal(lin.weight().data(), 0.02, rng);
                if (lin.bias() != null) {
                    Init.constant(lin.bias().data(), 0);
                }
            } else if (m instanceof LayerNorm ln && ln.weight() != null) {
                Init.constant(ln.weight().data(), 1);
                Init.constant(ln.bias().data(), 0);
            }
        });
    }

    /**
     * MAE's patch-embedding init: {@code xavier_uniform_(w.view(D, -1))}, i.e. fan-in C*P*P and fan-out D (not
     * D*P*P as for the 4-D tensor); the bias keeps PyTorch's Conv2d default U(±1/sqrt(fan_in)), redrawn from
     * {@code rng}.
     */
    public static void maePatchEmbed(Conv2d proj, RandomGenerator rng) {
        INDArray w = proj.weight().data();
        long fanOut = w.size(0);
        long fanIn = w.length() / fanOut;
        double bound = Math.sqrt(6.0 / (fanIn + fanOut));
        Init.uniform(w, -bound, bound, rng);
        if (proj.bias() != null) {
            Init.pytorchDefaultBias(proj.bias().data(), fanIn, rng);
        }
    }

    /** PyTorch's default Conv2d init (kaiming-uniform a = sqrt 5, bias U(±1/sqrt(fan_in))), drawn from {@code rng}. */
    public static void pytorchDefault(Conv2d conv, RandomGenerator rng) {
        Init.pytorchDefault(conv.weight().data(), rng);
        if (conv.bias() != null) {
            Init.pytorchDefaultBias(conv.bias().data(), Init.fanIn(conv.weight().data()), rng);
        }
    }

    private static void visit(Module m, java.util.function.Consumer<Module> f) {
        f.accept(m);
        for (Module c : m.children().values()) {
            visit(c, f);
        }
    }
}
