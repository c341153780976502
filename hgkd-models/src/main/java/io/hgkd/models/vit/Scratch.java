package io.hgkd.models.vit;

import io.hgkd.core.nn.Gemm;
import io.hgkd.core.nn.LayerNorm;
import io.hgkd.core.nn.Linear;
import io.hgkd.core.nn.RowKernels;
import io.hgkd.core.nn.Tensors;
import java.util.HashMap;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Erf;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Named buffers shared by all blocks of a no-grad forward pass, plus the forward math of the layers written into
 * them. The gradient path keeps per-module buffers for backward (as PyTorch keeps activations); the no-grad path of a
 * frozen teacher needs one set for the whole network, which is what this holds.
 */
final class Scratch {
    private static final double INV_SQRT2 = 1.0 / Math.sqrt(2.0);

    private final Map<String, INDArray> buffers = new HashMap<>();
    private final Map<String, ViewCache> views = new HashMap<>();

    /** The buffer {@code name} with this type and shape (reused when they match; contents are stale). */
    INDArray get(String name, DataType type, long... shape) {
        INDArray b = Tensors.reuse(buffers.get(name), type, shape);
        buffers.put(name, b);
        return b;
    }

    /** Views of buffer {@code name} made by {@code build}, created once per buffer. */
    INDArray[] views(String name, java.util.function.Function<INDArray, INDArray[]> build) {
        INDArray b = buffers.get(name);
        if (b == null) {
            throw new IllegalStateException("no scratch buffer '" + name + "'");
        }
        return views.computeIfAbsent(name, k -> new ViewCache()).get(b, build);
    }

    /** Releases every buffer (the next pass allocates again). */
    void clear() {
        buffers.clear();
        views.clear();
    }

    /** {@code out = x W^T + b} for 2-D {@code x}. */
    static void linear(INDArray x2d, Linear lin, INDArray out) {
        Gemm.gemm(x2d, lin.weight().data(), out, false, true, 1.0, 0.0);
        if (lin.bias() != null) {
            RowKernels.addRowVector(out, lin.bias().data());
        }
    }

    /** LayerNorm over the last dimension of 2-D {@code x} into {@code out} (biased variance). */
    static void layerNorm(INDArray x2d, LayerNorm ln, double eps, INDArray out) {
        RowKernels.layerNormForward(x2d, ln.weight() != null ? ln.weight().data() : null,
                ln.bias() != null ? ln.bias().data() : null, eps, out, null, null);
    }

    /** Exact GELU in place, {@code h = 0.5 h (1 + erf(h / sqrt 2))}, using {@code tmp} of the same shape. */
    static void geluInPlace(INDArray h, INDArray tmp) {
        if (h.dataType() == DataType.FLOAT && RowKernels.isDense(h)) {
            RowKernels.geluFloat(h, h);
            return;
        }
        tmp.assign(h).muli(INV_SQRT2);
        Nd4j.exec(new Erf(tmp, tmp));
        h.muli(tmp.addi(1.0).muli(0.5));
    }
}
