package io.hgkd.core.testing;

import static org.junit.jupiter.api.Assertions.fail;

import io.hgkd.core.nn.Module;
import io.hgkd.core.nn.Parameter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.function.DoubleSupplier;
import java.util.function.ToDoubleFunction;
import java.util.function.UnaryOperator;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Central finite-difference checks of hand-written backward passes, in double precision.
 *
 * <p>The scalar checked is {@code L = sum(forward(x) * gy)} for a fixed random {@code gy}, so the analytic gradients
 * are {@code backward(gy)} (input) and the accumulated parameter gradients. Each element of the input and of every
 * parameter (or a random subset of at most {@code maxPerTensor} elements) is perturbed by ±eps.
 */
public final class GradCheck {
    /** Step for central differences in double precision. */
    public static final double EPS = 1e-6;
    /** Allowed |analytic - numeric| / max(|analytic|, |numeric|, 1e-3): fails for any real backward bug. */
    public static final double MAX_REL_ERROR = 1e-5;

    private GradCheck() {
    }

    /** Checks {@code module} (converted to DOUBLE) at input {@code x}; returns max relative error per tensor. */
    public static Map<String, Double> check(Module module, INDArray x, long seed) {
        module.to(DataType.DOUBLE);
        return check(module::forward, module::backward, module.namedParameters(), module, x, seed, 200);
    }

    /**
     * Checks an arbitrary forward/backward pair whose parameters are {@code params}; {@code owner} (may be null) has
     * its gradients zeroed before the analytic backward.
     */
    public static Map<String, Double> check(UnaryOperator<INDArray> forward, UnaryOperator<INDArray> backward,
                                            Map<String, Parameter> params, Module owner, INDArray x0, long seed,
                                            int maxPerTensor) {
        INDArray x = x0.castTo(DataType.DOUBLE).dup('c');
        Random rnd = new Random(seed);
        INDArray y = forward.apply(x).dup();
        INDArray gy = TestData.randn(rnd.nextLong(), y.shape());
        params.values().forEach(Parameter::zeroGrad);
        if (owner != null) {
            owner.zeroGrad();
        }
        forward.apply(x);
        INDArray gx = backward.apply(gy.dup()).dup();
        Map<String, INDArray> analytic = new LinkedHashMap<>();
        params.forEach((k, p) -> analytic.put(k, p.hasGrad() ? p.grad().dup() : Nd4j.zeros(DataType.DOUBLE, p.data().shape())));

        Map<String, Double> errors = new LinkedHashMap<>();
        DoubleSupplier loss = () -> forward.apply(x).castTo(DataType.DOUBLE).mul(gy).sumNumber().doubleValue();
        errors.put("input", compare("input", x, gx, loss, rnd, maxPerTensor));
        for (Map.Entry<String, Parameter> e : params.entrySet()) {
            if (!e.getValue().requiresGrad()) {
                continue;
            }
            errors.put(e.getKey(), compare(e.getKey(), e.getValue().data(), analytic.get(e.getKey()), loss, rnd,
                    maxPerTensor));
        }
        record(errors);
        return errors;
    }

    /** Appends "test, tensor, worst relative error" rows to target/gradcheck-report.tsv (for docs/parity.md). */
    private static synchronized void record(Map<String, Double> errors) {
        String caller = StackWalker.getInstance().walk(frames -> frames
                .filter(f -> f.getClassName().endsWith("Test") && !f.getMethodName().startsWith("lambda$"))
                .map(f -> f.getClassName().substring(f.getClassName().lastIndexOf('.') + 1) + "#" + f.getMethodName())
                .reduce((first, second) -> second).orElse("unknown")); // the outermost frame is the test method
        StringBuilder sb = new StringBuilder();
        errors.forEach((k, v) -> sb.append(String.format(java.util.Locale.ROOT, "%s\t%s\t%.3e%n", caller, k, v)));
        java.nio.file.Path out = java.nio.file.Paths.get("target", "gradcheck-report.tsv");
        try {
            java.nio.file.Files.createDirectories(out.getParent());
            java.nio.file.Files.writeString(out, sb.toString(), java.nio.file.StandardOpenOption.CREATE,
                    java.nio.file.StandardOpenOption.APPEND);
        } catch (java.io.IOException ex) {
            // documentation only
        }
    }

    /**
     * Checks the gradient {@code analytic} of a scalar function {@code loss} at {@code x} (DOUBLE, perturbed in place
     * and restored), element by element; returns the worst relative error. For losses, whose backward is the
     * gradient of the scalar itself.
     */
    public static double checkScalar(String name, INDArray x, INDArray analytic, ToDoubleFunction<INDArray> loss) {
        if (x.dataType() != DataType.DOUBLE || analytic.dataType() != DataType.DOUBLE) {
            throw new IllegalArgumentException(name + ": finite differences need DOUBLE input and gradient");
        }
        double worst = compare(name, x, analytic, () -> loss.applyAsDouble(x), new Random(0), Integer.MAX_VALUE);
        record(Map.of(name, worst));
        return worst;
    }

    private static double compare(String name, INDArray target, INDArray analytic, DoubleSupplier loss, Random rnd,
                                  int maxPerTensor) {
        long n = target.length();
        double worst = 0;
        long count = Math.min(n, maxPerTensor);
        for (long j = 0; j < count; j++) {
            long i = n <= maxPerTensor ? j : (long) (rnd.nextDouble() * n);
            double orig = target.getDouble(i);
            target.putScalar(i, orig + EPS);
            double lp = loss.getAsDouble();
            target.putScalar(i, orig - EPS);
            double lm = loss.getAsDouble();
            target.putScalar(i, orig);
            double numeric = (lp - lm) / (2 * EPS);
            double a = analytic.getDouble(i);
            double rel = Math.abs(a - numeric) / Math.max(Math.max(Math.abs(a), Math.abs(numeric)), 1e-3);
            if (rel > MAX_REL_ERROR) {
                fail("gradient check failed for " + name + "[" + i + "]: analytic " + a + ", numeric " + numeric
                        + ", relative error " + rel);
            }
            worst = Math.max(worst, rel);
        }
        return worst;
    }
}
