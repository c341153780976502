package io.hgkd.train.distill;

/**
 * One step's loss values for logging; unweighted terms, so runs with different weights stay comparable. A term
 * that is switched off (weight 0, or L_sim disabled) is 0 and is not computed.
 *
 * @param feat  L_feat
 * @param sim   L_sim
 * @param pix   L_pix
 * @param total featWeight * feat + simWeight * sim + pixWeight * pix
 */
public record LossTerms(double feat, double sim, double pix, double total) {
    /** True when every value is finite (a trainer stops on a non-finite loss). */
    public boolean isFinite() {
        return Double.isFinite(feat) && Double.isFinite(sim) && Double.isFinite(pix) && Double.isFinite(total);
    }

    @Override
    public String toString() {
        return String.format(java.util.Locale.ROOT, "loss %.6g (feat %.6g, sim %.6g, pix %.6g)", total, feat, sim,
                pix);
    }
}
