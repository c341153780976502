package io.hgkd.core.optim;

import java.util.List;
import java.util.Objects;
import io.hgkd.core.nn.Parameter;

/**
 * Gradient accumulation over equal-sized micro-batches. Backward passes add into {@link Parameter#grad()} until
 * {@code zeroGrad}; this counter says when {@code microBatches} of them have been added and then divides the sum by
 * {@code microBatches}, so a per-micro-batch <em>mean</em> loss yields the gradient of the mean loss over the whole
 * batch (the caller does not rescale its loss).
 *
 * <pre>{@code
 * for (batch : microBatches) {
 *     backward(loss(batch));
 *     if (acc.microBatchDone()) {   // true every k-th call, gradients are now the batch mean
 *         optimizer.step();         // clipping (if any) goes before this
 *         optimizer.zeroGrad();
 *     }
 * }
 * }</pre>
 *
 * <p>The pending count is not part of a checkpoint: checkpoint only right after an optimizer step.
 */
public final class GradientAccumulator {
    private final List<Parameter> params;
    private final int microBatches;
    private int pending;

    /**
     * @param params       the parameters whose gradients are accumulated (e.g. {@link Optimizer#parameters()})
     * @param microBatches backward passes per optimizer step, &gt;= 1
     */
    public GradientAccumulator(List<Parameter> params, int microBatches) {
        this.params = List.copyOf(Objects.requireNonNull(params, "params"));
        if (microBatches < 1) {
            throw new IllegalArgumentException("microBatches must be >= 1, got " + microBatches);
        }
        this.microBatches = microBatches;
    }

    /**
     * Records one finished backward pass. Returns true when this completes a group of {@code microBatches} passes,
     * after dividing the accumulated gradients by {@code microBatches}; the caller then steps and zeroes them.
     */
    public boolean microBatchDone() {
        pending++;
        if (pending < microBatches) {
            return false;
        }
        pending = 0;
        if (microBatches > 1) {
            Gradients.scale(params, 1.0 / microBatches);
        }
        return true;
    }

    /** Backward passes recorded since the last completed group. */
    public int pending() {
        return pending;
    }

    /** Backward passes per optimizer step. */
    public int microBatches() {
        return microBatches;
    }
}
