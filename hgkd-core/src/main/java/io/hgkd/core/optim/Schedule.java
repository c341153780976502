package io.hgkd.core.optim;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;

/**
 * A value per training iteration (learning rate or weight decay), evaluated from the iteration index alone, so
 * that a resumed run only needs the step counter. Implementations are immutable, validated records; Jackson writes
 * them with a {@code "type"} field ({@code warmup_cosine}, {@code cosine}, {@code constant}) so a config can hold any
 * of them.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
        @JsonSubTypes.Type(value = WarmupCosine.class, name = "warmup_cosine"),
        @JsonSubTypes.Type(value = CosineWeightDecay.class, name = "cosine"),
        @JsonSubTypes.Type(value = ConstantSchedule.class, name = "constant")})
public interface Schedule {
    /**
     * The value at iteration {@code step} (0-based).
     *
     * @throws IllegalArgumentException when {@code step} is outside the schedule's range
     */
    double valueAt(long step);
}
