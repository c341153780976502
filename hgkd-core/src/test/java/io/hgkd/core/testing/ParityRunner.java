package io.hgkd.core.testing;

import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.hgkd.core.nn.Module;
import io.hgkd.core.nn.Parameter;
import java.util.Map;
import java.util.function.BiFunction;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Runs a module against a PyTorch parity case: loads {@code param.*} and {@code buffer_in.*}, compares the forward
 * output {@code y}, the input gradient {@code gx}, every {@code grad.*} and every {@code buffer.*}.
 */
public final class ParityRunner {
    private ParityRunner() {
    }

    /** Dense module: {@code forward(x)}. */
    public static void run(String caseName, Module module) {
        run(caseName, module, (m, c) -> m.forward(c.get("x")));
    }

    /** Any forward taking the case (for masked modules and multi-input layers). */
    public static void run(String caseName, Module module, BiFunction<Module, Fixtures.Case, INDArray> forward) {
        Fixtures.Case c = Fixtures.parity(caseName);
        Map<String, Parameter> params = module.namedParameters();
        Map<String, INDArray> buffers = module.namedBuffers();
        c.arrays().forEach((k, v) -> {
            if (k.startsWith("param.")) {
                Parameter p = params.get(k.substring(6));
                assertNotNull(p, caseName + ": module has no parameter " + k.substring(6) + "; has " + params.keySet());
                p.set(v);
            } else if (k.startsWith("buffer_in.")) {
                INDArray b = buffers.get(k.substring(10));
                assertNotNull(b, caseName + ": module has no buffer " + k.substring(10));
                b.assign(v);
            }
        });
        module.zeroGrad();
        INDArray y = forward.apply(module, c).dup();
        Parity.forward(caseName, "y", c.get("y"), y);
        if (c.has("gy")) {
            INDArray gx = module.backward(c.get("gy").dup());
            Parity.gradient(caseName, "gx", c.get("gx"), gx);
        }
        c.arrays().forEach((k, v) -> {
            if (k.startsWith("grad.")) {
                Parity.gradient(caseName, k, v, params.get(k.substring(5)).grad());
            } else if (k.startsWith("buffer.")) {
                Parity.forward(caseName, k, v, buffers.get(k.substring(7)));
            }
        });
    }
}
