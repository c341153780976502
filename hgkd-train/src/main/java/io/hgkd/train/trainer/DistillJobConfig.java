package io.hgkd.train.trainer;

import io.hgkd.models.student.StudentConfig;
import io.hgkd.models.vit.VitConfig;
import io.hgkd.train.distill.DistillConfig;

/**
 * Everything that defines an H-GKD distillation (or, with {@link DistillConfig#sparkOnly()}, a plain SparK) run
 * besides the {@link TrainerConfig}.
 *
 * <p>One seed: the canonical constructor overwrites the nested seeds with ones derived from {@code seed}
 * ({@link Seeds#derive}): the teacher's init ({@code init.teacher}), the student encoder's and decoder's init
 * ({@code init.student}) and the queue's init ({@code queue}). The masks (per step, {@code mask}) and the data order
 * ({@code data}) derive from it in {@link DistillJob}. So the stored config shows the seeds really used.
 *
 * @param seed           the run's seed
 * @param teacher        the ViT teacher's architecture (null when the loss uses no teacher term, i.e. plain SparK)
 * @param teacherWeights safetensors file of the teacher's weights (timm names; extra keys such as an MAE decoder
 *                       are ignored, missing ones are an error), or null for a randomly initialised teacher (tests)
 * @param student        the SparK student
 * @param loss           the H-GKD loss
 * @param maskRatio      fraction of masked cells of the student's mask grid (SparK 0.6)
 * @param teacherChunk   run the teacher on at most this many images at a time (0 = whole batch)
 * @param data           the images
 */
public record DistillJobConfig(long seed, VitConfig teacher, String teacherWeights, StudentConfig student,
                               DistillConfig loss, double maskRatio, int teacherChunk, DataConfig data) {

    /** Validates the combination and derives the nested seeds from {@code seed}. */
    public DistillJobConfig {
        if (student == null || loss == null || data == null) {
            throw new IllegalArgumentException("DistillJobConfig needs a student, a loss and data");
        }
        if (loss.usesTeacher() && teacher == null) {
            throw new IllegalArgumentException("the loss uses the teacher (featWeight or simWeight > 0) but no"
                    + " teacher is configured");
        }
        if (!loss.usesTeacher() && (teacher != null || teacherWeights != null)) {
            throw new IllegalArgumentException("the loss uses no teacher term (plain SparK); remove the teacher");
        }
        if (!(maskRatio > 0 && maskRatio < 1)) {
            throw new IllegalArgumentException("maskRatio must be in (0, 1), got " + maskRatio);
        }
        if (teacherChunk < 0) {
            throw new IllegalArgumentException("teacherChunk must be >= 0 (0 = whole batch), got " + teacherChunk);
        }
        if (data.imageSize() != student.inputSize() || data.channels() != student.encoder().inChans()) {
            throw new IllegalArgumentException("data (" + data.channels() + " x " + data.imageSize() + " px) does not"
                    + " match the student (" + student.encoder().inChans() + " x " + student.inputSize() + " px)");
        }
        if (teacher != null && (teacher.imgSize() != data.imageSize() || teacher.inChans() != data.channels())) {
            throw new IllegalArgumentException("data (" + data.channels() + " x " + data.imageSize() + " px) does not"
                    + " match the teacher (" + teacher.inChans() + " x " + teacher.imgSize() + " px)");
        }
        if (teacher != null) {
            teacher = teacher.withSeed(Seeds.derive(seed, "init.teacher", 0));
        }
        student = new StudentConfig(student.encoder().withSeed(Seeds.derive(seed, "init.student", 0)),
                student.inputSize(), student.decoderWidth(), student.pixelHead(), student.teacherPatch(),
                student.teacherDim());
        loss = loss.withQueue(loss.queueSize(), Seeds.derive(seed, "queue", 0));
    }
}
