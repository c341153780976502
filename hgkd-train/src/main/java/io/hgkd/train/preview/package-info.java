/**
 * Pictures of what a pretraining job learns, written every epoch for a few fixed images: the input, the mask, the
 * masked input, the pixel reconstruction and the predicted teacher features beside the teacher's (coloured by the
 * first three principal components of the teacher features, {@link io.hgkd.train.preview.FeaturePca}).
 *
 * <p>A job that can draw them implements {@link io.hgkd.train.preview.Previewable}; the
 * {@link io.hgkd.train.preview.PreviewListener} calls it at each epoch end and {@link io.hgkd.train.preview.PreviewGrid}
 * renders the PNG.
 */
package io.hgkd.train.preview;
