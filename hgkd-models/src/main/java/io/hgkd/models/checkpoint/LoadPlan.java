package io.hgkd.models.checkpoint;

import io.hgkd.core.nn.LoadReport;
import io.hgkd.core.nn.Module;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How to map a checkpoint's keys onto a module and load it: an immutable recipe, applied in this order:
 * <ol>
 *   <li>{@code autoUnwrap}: strip a wrapping prefix ({@code model.}, {@code module.}, {@code state_dict.}, also
 *       nested) when every key has it ({@link StateDicts#unwrap});</li>
 *   <li>{@code select}: keep only the keys under a prefix, without it ({@code sparse_encoder.sp_cnn.} for a SparK
 *       checkpoint); the prefix is also found behind wrappers ({@link StateDicts#locate}), which is how a prefix
 *       is unwrapped explicitly when only part of the keys have it (SparK's {@code module.*} next to
 *       {@code optimizer.*});</li>
 *   <li>{@code dropMaeDecoder}: drop MAE's {@code decoder_*} and {@code mask_token} keys;</li>
 *   <li>{@code ignored}: drop keys equal to or under the given prefixes ({@code head.} for a headless encoder);</li>
 *   <li>{@code castToFloat}: F16/BF16/F64 tensors to FLOAT;</li>
 *   <li>{@code transforms}: per-key fix-ups against the module's shapes ({@link KeyTransform}, e.g.
 *       {@link PosEmbedResample});</li>
 *   <li>compare with the module's state dict and load: {@link #loadInto}.</li>
 * </ol>
 *
 * <pre>{@code
 * LoadReport r = LoadPlan.vitEncoder().loadInto(vit, Path.of("mae_pretrain_vit_base.safetensors"), true);
 * LoadPlan.sparkEncoder().loadInto(resnet50, Path.of("resnet50_withdecoder.safetensors"), false);
 * }</pre>
 *
 * @param autoUnwrap     strip a wrapping prefix that every key has
 * @param select         keep only the keys under this prefix, without it ({@code ""}: keep all)
 * @param dropMaeDecoder drop MAE pretraining-decoder keys
 * @param ignored        key prefixes to drop (a prefix {@code "head."} drops {@code head.weight}; {@code "head"}
 *                       drops the key {@code head} and everything under {@code head.})
 * @param castToFloat    cast floating tensors to FLOAT
 * @param transforms     per-key transforms, in order
 */
public record LoadPlan(boolean autoUnwrap, String select, boolean dropMaeDecoder, List<String> ignored,
                       boolean castToFloat, List<KeyTransform> transforms) {
    private static final Logger LOG = LoggerFactory.getLogger(LoadPlan.class);

    /** Validates and copies the lists. */
    public LoadPlan {
        Objects.requireNonNull(select, "select (use \"\" for none)");
        ignored = List.copyOf(ignored);
        transforms = List.copyOf(transforms);
    }

    /** Keys as they are: no unwrapping, no dropping, dtypes kept (the module casts on load). */
    public static LoadPlan exact() {
        return new LoadPlan(false, "", false, List.of(), false, List.of());
    }

    /**
     * Unwraps {@code model.}/{@code module.}/{@code state_dict.} and casts to FLOAT: timm/torchvision ResNets, timm
     * ViTs.
     */
    public static LoadPlan standard() {
        return new LoadPlan(true, "", false, List.of(), true, List.of());
    }

    /** {@link #standard()} plus dropping MAE's decoder: a ViT encoder from an MAE pretraining checkpoint. */
    public static LoadPlan vitEncoder() {
        return standard().withDropMaeDecoder(true);
    }

    /**
     * {@link #standard()} plus selecting {@code sparse_encoder.sp_cnn.}: the timm ResNet inside a SparK pretraining
     * checkpoint ({@code <model>_withdecoder_1kpretrained_spark_style.pth}, converted). SparK's timm-style files need
     * {@link #standard()} only.
     */
    public static LoadPlan sparkEncoder() {
        return standard().withSelect("sparse_encoder.sp_cnn.");
    }

    /** This plan with automatic unwrapping on or off. */
    public LoadPlan withAutoUnwrap(boolean on) {
        return new LoadPlan(on, select, dropMaeDecoder, ignored, castToFloat, transforms);
    }

    /** This plan keeping only the keys under {@code prefix} ({@code ""} for all). */
    public LoadPlan withSelect(String prefix) {
        return new LoadPlan(autoUnwrap, prefix, dropMaeDecoder, ignored, castToFloat, transforms);
    }

    /** This plan with MAE-decoder dropping on or off. */
    public LoadPlan withDropMaeDecoder(boolean on) {
        return new LoadPlan(autoUnwrap, select, on, ignored, castToFloat, transforms);
    }

    /** This plan also dropping keys under {@code prefixes}. */
    public LoadPlan withIgnored(String... prefixes) {
        List<String> all = new ArrayList<>(ignored);
        all.addAll(Arrays.asList(prefixes));
        return new LoadPlan(autoUnwrap, select, dropMaeDecoder, all, castToFloat, transforms);
    }

    /** This plan with FLOAT casting on or off. */
    public LoadPlan withCastToFloat(boolean on) {
        return new LoadPlan(autoUnwrap, select, dropMaeDecoder, ignored, on, transforms);
    }

    /** This plan with {@code t} appended to the transforms. */
    public LoadPlan withTransform(KeyTransform t) {
        List<KeyTransform> all = new ArrayList<>(transforms);
        all.add(Objects.requireNonNull(t, "transform"));
        return new LoadPlan(autoUnwrap, select, dropMaeDecoder, ignored, castToFloat, all);
    }

    /**
     * The outcome of the key mapping, before loading.
     *
     * @param state          the mapped tensors, in checkpoint order (unmodifiable)
     * @param removedPrefix  the prefix taken off every kept key ({@code "model."}, {@code
     *                       "module.sparse_encoder.sp_cnn."}, or {@code ""})
     * @param dropped        original names of the tensors left out (outside the selection, MAE decoder, ignored)
     * @param transformed    one line per tensor a transform replaced: {@code "pos_embed: [1, 5, 16] -> [1, 17, 16]"}
     */
    public record Prepared(Map<String, INDArray> state, String removedPrefix, List<String> dropped,
                           List<String> transformed) {
        /** Copies the collections. */
        public Prepared {
            state = Collections.unmodifiableMap(new LinkedHashMap<>(state));
            dropped = List.copyOf(dropped);
            transformed = List.copyOf(transformed);
        }

        /** The mapped keys with their shapes. */
        public Map<String, long[]> shapes() {
            return StateDicts.shapes(state);
        }
    }

    /**
     * Applies the key mapping (steps 1-5) without a target; transforms need target shapes and are skipped.
     *
     * @throws IllegalArgumentException when {@code select} matches no key
     */
    public Prepared prepare(Map<String, INDArray> source) {
        return prepare(source, null);
    }

    /**
     * Applies the key mapping and, for keys in {@code targetShapes}, the transforms.
     *
     * @param targetShapes the module's shapes by key, or null to skip the transforms
     * @throws IllegalArgumentException when {@code select} matches no key, or a transform cannot adapt a tensor
     */
    public Prepared prepare(Map<String, INDArray> source, Map<String, long[]> targetShapes) {
        String removed = "";
        Map<String, INDArray> state = new LinkedHashMap<>(source);
        if (autoUnwrap) {
            removed = StateDicts.wrapperPrefix(state.keySet());
            state = StateDicts.select(state, removed);
        }
        if (!select.isEmpty()) {
            String at = StateDicts.locate(state.keySet(), select);
            if (at == null) {
                throw new IllegalArgumentException("no key is under '" + select + "' (looked at the top level and "
                        + "behind the wrappers " + StateDicts.WRAPPER_PREFIXES + "); top-level prefixes: "
                        + StateDicts.describePrefixes(state.keySet(), 12));
            }
            state = StateDicts.select(state, at);
            removed += at;
        }
        Map<String, INDArray> kept = new LinkedHashMap<>();
        for (Map.Entry<String, INDArray> e : state.entrySet()) {
            String k = e.getKey();
            if ((dropMaeDecoder && StateDicts.isMaeDecoderKey(k)) || isIgnored(k)) {
                continue;
            }
            kept.put(k, e.getValue());
        }
        List<String> dropped = new ArrayList<>();
        for (String k : source.keySet()) {
            String mapped = k.startsWith(removed) ? k.substring(removed.length()) : null;
            if (mapped == null || !kept.containsKey(mapped)) {
                dropped.add(k);
            }
        }
        if (castToFloat) {
            kept = StateDicts.toFloat(kept);
        }
        List<String> transformed = new ArrayList<>();
        if (targetShapes != null && !transforms.isEmpty()) {
            for (Map.Entry<String, INDArray> e : kept.entrySet()) {
                long[] target = targetShapes.get(e.getKey());
                if (target == null) {
                    continue;
                }
                INDArray before = e.getValue();
                INDArray t = before;
                for (KeyTransform tr : transforms) {
                    t = Objects.requireNonNull(tr.apply(e.getKey(), t, target.clone()),
                            () -> tr + " returned null for " + e.getKey());
                }
                if (t != before) {
                    e.setValue(t);
                    transformed.add(e.getKey() + ": " + Arrays.toString(before.shape()) + " -> "
                            + Arrays.toString(t.shape()));
                }
            }
        }
        return new Prepared(kept, removed, dropped, transformed);
    }

    private boolean isIgnored(String key) {
        for (String p : ignored) {
            if (key.startsWith(p) && (p.endsWith(".") || key.length() == p.length() || key.charAt(p.length()) == '.')) {
                return true;
            }
        }
        return false;
    }

    /**
     * Maps {@code source} onto {@code module} and copies the matching tensors into it.
     *
     * @param strict when true, any missing, unexpected or wrong-shape key (after mapping) throws a
     *               {@link CheckpointMismatchException} naming them, and nothing is copied; when false, the matching
     *               tensors are copied and the mismatches are logged as a warning
     * @return the report (missing, unexpected and wrong-shape keys by name)
     * @throws IllegalArgumentException when {@code select} matches no key or a transform fails
     */
    public LoadReport loadInto(Module module, Map<String, INDArray> source, boolean strict) {
        return loadInto(module, source, strict, "state dict");
    }

    /**
     * Reads {@code file} ({@link Checkpoints#read}) and loads it as {@link #loadInto(Module, Map, boolean)} does;
     * error messages and the log name the file.
     *
     * @throws IOException              when the file cannot be read or is not a format hgkd reads
     * @throws CheckpointMismatchException in strict mode, when the keys do not match
     */
    public LoadReport loadInto(Module module, Path file, boolean strict) throws IOException {
        Map<String, INDArray> source = Checkpoints.read(file);
        try {
            return loadInto(module, source, strict, file.toString());
        } catch (CheckpointMismatchException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    private LoadReport loadInto(Module module, Map<String, INDArray> source, boolean strict, String what) {
        Map<String, long[]> target = StateDicts.shapes(module.stateDict());
        Prepared p = prepare(source, target);
        LoadReport expected = LoadReports.compare(target, p.shapes());
        String moduleName = module.getClass().getSimpleName();
        if (strict && !expected.isClean()) {
            throw new CheckpointMismatchException(what + " does not match " + moduleName
                    + " (strict load; nothing was loaded)" + mapping(p) + ":\n"
                    + LoadReports.format(expected, LoadReports.DEFAULT_LISTED), expected);
        }
        LoadReport report = module.loadStateDict(p.state(), false);
        int loaded = LoadReports.matched(report, target.size());
        if (report.isClean()) {
            LOG.info("Loaded {} tensors into {} from {}{}", loaded, moduleName, what, mapping(p));
        } else {
            LOG.warn("Loaded {} of {} tensors into {} from {}{}; the rest did not match:\n{}", loaded, target.size(),
                    moduleName, what, mapping(p), LoadReports.format(report, LoadReports.DEFAULT_LISTED));
        }
        return report;
    }

    /** {@code " (removed prefix 'model.'; dropped 8 keys: ...; transformed pos_embed: ...)"} or {@code ""}. */
    private static String mapping(Prepared p) {
        List<String> parts = new ArrayList<>();
        if (!p.removedPrefix().isEmpty()) {
            parts.add("removed prefix '" + p.removedPrefix() + "'");
        }
        if (!p.dropped().isEmpty()) {
            int shown = Math.min(5, p.dropped().size());
            parts.add("dropped " + p.dropped().size() + " keys: " + String.join(", ", p.dropped().subList(0, shown))
                    + (shown < p.dropped().size() ? ", ..." : ""));
        }
        if (!p.transformed().isEmpty()) {
            parts.add("transformed " + String.join(", ", p.transformed()));
        }
        return parts.isEmpty() ? "" : " (" + String.join("; ", parts) + ")";
    }
}
