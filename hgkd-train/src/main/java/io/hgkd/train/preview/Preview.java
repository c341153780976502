package io.hgkd.train.preview;

import java.util.Objects;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * What a pretraining job shows for a batch of fixed images. Arrays are copies the job no longer touches.
 *
 * @param images          (n, C, H, W) the (normalised) inputs
 * @param visible         {@code visible[i][r][c]}: mask cell (r, c) of image i is visible; the cells tile the image
 * @param reconstruction  (n, C, H, W) the predicted pixels in the inputs' space (patch normalisation undone), or
 *                        null when the model has no pixel head
 * @param studentFeatures (n, G*G, D) the student's predicted teacher features in row-major grid order, or null
 * @param teacherFeatures (n, G*G, D) the teacher's features (the targets) in the same layout, or null
 */
public record Preview(INDArray images, boolean[][][] visible, INDArray reconstruction, INDArray studentFeatures,
                      INDArray teacherFeatures) {

    /** Checks the shapes agree. */
    public Preview {
        Objects.requireNonNull(images, "images");
        Objects.requireNonNull(visible, "visible");
        if (images.rank() != 4 || visible.length != images.size(0)) {
            throw new IllegalArgumentException("Preview needs (n, C, H, W) images and n masks, got "
                    + java.util.Arrays.toString(images.shape()) + " and " + visible.length + " masks");
        }
        if (reconstruction != null && !java.util.Arrays.equals(reconstruction.shape(), images.shape())) {
            throw new IllegalArgumentException("Preview reconstruction " + java.util.Arrays.toString(
                    reconstruction.shape()) + " differs from images " + java.util.Arrays.toString(images.shape()));
        }
        if ((studentFeatures == null) != (teacherFeatures == null)) {
            throw new IllegalArgumentException("Preview needs both student and teacher features, or neither");
        }
        if (teacherFeatures != null && (teacherFeatures.rank() != 3 || teacherFeatures.size(0) != images.size(0)
                || !java.util.Arrays.equals(studentFeatures.shape(), teacherFeatures.shape()))) {
            throw new IllegalArgumentException("Preview features must both be (n, G*G, D), got student "
                    + java.util.Arrays.toString(studentFeatures.shape()) + ", teacher "
                    + java.util.Arrays.toString(teacherFeatures.shape()));
        }
    }

    /** Number of images. */
    public int size() {
        return visible.length;
    }

    /** Side G of the feature grid (0 without features). */
    public int featureGrid() {
        if (teacherFeatures == null) {
            return 0;
        }
        int g = (int) Math.round(Math.sqrt(teacherFeatures.size(1)));
        if ((long) g * g != teacherFeatures.size(1)) {
            throw new IllegalStateException("feature token count " + teacherFeatures.size(1) + " is not a square");
        }
        return g;
    }
}
