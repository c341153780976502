package io.hgkd.models.mae;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * What MAE's {@code forward} returns, plus the masking used.
 *
 * @param loss       mean per-patch MSE over removed patches
 * @param pred       (B, L, P*P*C) predicted patches (layout of {@link io.hgkd.core.mim.Patchify}); a buffer the next
 *                   forward may overwrite
 * @param mask       (B, L), 1 = removed, 0 = visible
 * @param idsRestore (B, L) LONG, MAE's {@code ids_restore}
 * @param masking    the masking as Java arrays
 */
public record MaeOutput(double loss, INDArray pred, INDArray mask, INDArray idsRestore, RandomMasking masking) {
}
