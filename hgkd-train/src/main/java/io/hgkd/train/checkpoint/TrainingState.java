package io.hgkd.train.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The non-tensor part of a checkpoint, stored in its {@code state.json}: where the run is, what it has achieved, the
 * RNG states and the full job config.
 *
 * <p>The schedule position needs no field of its own: the schedules ({@code WarmupCosine}, {@code CosineWeightDecay})
 * are pure functions of the iteration, and the iteration is {@link #globalStep()}.
 *
 * @param jobKind         the job that wrote it ({@code distill}, {@code pretrain-teacher}, {@code finetune}, ...)
 * @param epoch           the epoch in progress (0-based) when the checkpoint was taken
 * @param stepInEpoch     the number of iterations of {@code epoch} already done (0 at an epoch boundary)
 * @param globalStep      the number of iterations done since the start of the run; also the checkpoint's name
 * @param metricName      the name of {@link #metric()} (e.g. {@code val_top1}), null when there is none
 * @param metric          this checkpoint's value of the metric used to pick the best checkpoint, or null
 * @param bestMetric      the best metric value seen so far in the run (including earlier checkpoints), or null
 * @param rng             RNG states by name (e.g. {@code data}, {@code mask}), as strings so that longs and other
 *                        encodings survive JSON exactly; see {@link #rngLong}
 * @param wallTimeSeconds training time spent so far (caller-measured; resumed runs add to it)
 * @param savedAt         when the checkpoint was written
 * @param hgkdVersion     {@link BuildInfo#version()} of the writer
 * @param gitSha          {@link BuildInfo#gitSha()} of the writer, or null
 * @param config          the full job config as a JSON tree (a deep copy is kept)
 */
public record TrainingState(String jobKind, long epoch, long stepInEpoch, long globalStep, String metricName,
                            Double metric, Double bestMetric, Map<String, String> rng, double wallTimeSeconds,
                            Instant savedAt, String hgkdVersion, String gitSha, JsonNode config) {
    /** The version of the {@code state.json} layout; readers refuse newer ones. */
    public static final int FORMAT_VERSION = 1;

    /** Validates and copies. */
    public TrainingState {
        Objects.requireNonNull(jobKind, "jobKind");
        Objects.requireNonNull(savedAt, "savedAt");
        Objects.requireNonNull(hgkdVersion, "hgkdVersion");
        if (epoch < 0 || stepInEpoch < 0 || globalStep < 0) {
            throw new IllegalArgumentException("epoch, stepInEpoch and globalStep must be >= 0, got " + epoch + ", "
                    + stepInEpoch + ", " + globalStep);
        }
        if (metric != null && !Double.isFinite(metric) || bestMetric != null && !Double.isFinite(bestMetric)) {
            // JSON has no NaN or infinity, and a non-finite "best" would make every later checkpoint lose.
            throw new IllegalArgumentException("metric and bestMetric must be finite, got " + metric + ", "
                    + bestMetric);
        }
        if (!(wallTimeSeconds >= 0) || Double.isInfinite(wallTimeSeconds)) {
            throw new IllegalArgumentException("wallTimeSeconds must be finite and >= 0, got " + wallTimeSeconds);
        }
        Map<String, String> r = new LinkedHashMap<>();
        Objects.requireNonNull(rng, "rng").forEach((k, v) -> r.put(Objects.requireNonNull(k, "rng name"),
                Objects.requireNonNull(v, () -> "rng '" + k + "' is null")));
        rng = Collections.unmodifiableMap(r);
        config = config == null ? NullNode.getInstance() : config.deepCopy();
    }

    /**
     * A state stamped with the current time, this build's version and the git commit from the environment.
     *
     * @param rng RNG states; use {@link Long#toString(long)} for long seeds and states
     */
    public static TrainingState of(String jobKind, long epoch, long stepInEpoch, long globalStep, String metricName,
                                   Double metric, Double bestMetric, Map<String, String> rng, double wallTimeSeconds,
                                   JsonNode config) {
        return new TrainingState(jobKind, epoch, stepInEpoch, globalStep, metricName, metric, bestMetric, rng,
                wallTimeSeconds, Instant.now(), BuildInfo.version(), BuildInfo.gitSha(), config);
    }

    /** The config (a copy, since {@link JsonNode}s are mutable). */
    @Override
    public JsonNode config() {
        return config.deepCopy();
    }

    /** The RNG state {@code name} parsed as a long. */
    public long rngLong(String name) {
        String v = rng.get(name);
        if (v == null) {
            throw new IllegalArgumentException("no RNG state '" + name + "' (have " + rng.keySet() + ")");
        }
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("RNG state '" + name + "' is not a long: " + v, e);
        }
    }

    /** The JSON object written to {@code state.json}, without the file manifest (the writer adds it). */
    ObjectNode toJson() {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("format_version", FORMAT_VERSION);
        o.put("job_kind", jobKind);
        o.put("epoch", epoch);
        o.put("step_in_epoch", stepInEpoch);
        o.put("global_step", globalStep);
        o.put("metric_name", metricName);
        o.put("metric", metric);
        o.put("best_metric", bestMetric);
        ObjectNode r = o.putObject("rng");
        rng.forEach(r::put);
        o.put("wall_time_seconds", wallTimeSeconds);
        o.put("saved_at", savedAt.toString());
        o.put("hgkd_version", hgkdVersion);
        o.put("git_sha", gitSha);
        o.set("config", config.deepCopy());
        return o;
    }

    /**
     * Parses {@link #toJson()}'s layout.
     *
     * @throws IllegalArgumentException naming the field when one is missing or has the wrong type
     */
    static TrainingState fromJson(JsonNode o) {
        if (!o.isObject()) {
            throw new IllegalArgumentException("not a JSON object");
        }
        int version = (int) longField(o, "format_version");
        if (version < 1 || version > FORMAT_VERSION) {
            throw new IllegalArgumentException("format_version " + version + " is not supported (this hgkd reads "
                    + "1 to " + FORMAT_VERSION + ")");
        }
        JsonNode r = o.get("rng");
        if (r == null || !r.isObject()) {
            throw new IllegalArgumentException("\"rng\" is missing or not an object");
        }
        Map<String, String> rng = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : r.properties()) {
            if (!e.getValue().isTextual()) {
                throw new IllegalArgumentException("rng \"" + e.getKey() + "\" is not a string");
            }
            rng.put(e.getKey(), e.getValue().textValue());
        }
        if (!o.has("config")) {
            throw new IllegalArgumentException("\"config\" is missing");
        }
        Instant saved;
        try {
            saved = Instant.parse(textField(o, "saved_at", false));
        } catch (java.time.format.DateTimeParseException e) {
            throw new IllegalArgumentException("\"saved_at\" is not an ISO-8601 instant: " + o.get("saved_at"));
        }
        return new TrainingState(textField(o, "job_kind", false), longField(o, "epoch"),
                longField(o, "step_in_epoch"), longField(o, "global_step"), textField(o, "metric_name", true),
                doubleField(o, "metric"), doubleField(o, "best_metric"), rng, requiredDouble(o, "wall_time_seconds"),
                saved, textField(o, "hgkd_version", false), textField(o, "git_sha", true), o.get("config"));
    }

    private static long longField(JsonNode o, String name) {
        JsonNode v = o.get(name);
        if (v == null || !v.isIntegralNumber() || !v.canConvertToLong()) {
            throw new IllegalArgumentException("\"" + name + "\" is missing or not an integer: " + v);
        }
        return v.longValue();
    }

    private static Double doubleField(JsonNode o, String name) {
        JsonNode v = o.get(name);
        if (v == null) {
            throw new IllegalArgumentException("\"" + name + "\" is missing");
        }
        if (v.isNull()) {
            return null;
        }
        if (!v.isNumber()) {
            throw new IllegalArgumentException("\"" + name + "\" is not a number: " + v);
        }
        return v.doubleValue();
    }

    private static double requiredDouble(JsonNode o, String name) {
        Double v = doubleField(o, name);
        if (v == null) {
            throw new IllegalArgumentException("\"" + name + "\" is null");
        }
        return v;
    }

    private static String textField(JsonNode o, String name, boolean nullable) {
        JsonNode v = o.get(name);
        if (v == null || (v.isNull() && !nullable) || (!v.isNull() && !v.isTextual())) {
            throw new IllegalArgumentException("\"" + name + "\" is missing or not a string: " + v);
        }
        return v.isNull() ? null : v.textValue();
    }
}
