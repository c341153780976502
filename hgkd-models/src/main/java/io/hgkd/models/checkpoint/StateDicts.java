package io.hgkd.models.checkpoint;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Predicate;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Pure key-mapping functions on state dicts: unwrap a wrapping prefix, select a sub-module, drop MAE's decoder, cast
 * to FLOAT. They return new {@link LinkedHashMap}s in the source order and never modify their input; the tensors
 * themselves are shared, not copied (except by {@link #toFloat}).
 *
 * <p>The key functions are generic in the value type, so the same code runs on tensors ({@code INDArray}) and on
 * header-only {@link TensorSpec}s (how {@code hgkd inspect} describes a multi-gigabyte file without reading it).
 */
public final class StateDicts {
    /**
     * Prefixes that training scripts wrap a model's state dict in: MAE saves {@code {'model': sd}}, SparK
     * {@code {'module': sd}} (and DistributedDataParallel adds {@code module.}), Lightning and some timm scripts
     * {@code {'state_dict': sd}}. Once flattened by {@code tools/pth_to_safetensors.py} they are dotted prefixes.
     */
    public static final List<String> WRAPPER_PREFIXES = List.of("model.", "module.", "state_dict.");

    private StateDicts() {
    }

    /**
     * The wrapping prefix that <em>every</em> key has, repeated as long as it applies: {@code "model."},
     * {@code "model.module."}, ..., or {@code ""} when the keys are not wrapped (or the map is empty).
     */
    public static String wrapperPrefix(Collection<String> keys) {
        StringBuilder found = new StringBuilder();
        List<String> current = new ArrayList<>(keys);
        while (!current.isEmpty()) {
            String next = null;
            for (String w : WRAPPER_PREFIXES) {
                if (current.stream().allMatch(k -> k.startsWith(w) && k.length() > w.length())) {
                    next = w;
                    break;
                }
            }
            if (next == null) {
                break;
            }
            found.append(next);
            int n = next.length();
            current.replaceAll(k -> k.substring(n));
        }
        return found.toString();
    }

    /**
     * Strips the {@link #wrapperPrefix wrapping prefix} when every key has it; returns an equal copy otherwise. A
     * checkpoint whose wrapper holds only part of the keys (say {@code module.*} next to {@code optimizer.*}) is left
     * as it is: use {@link #select} for it.
     */
    public static <T> Map<String, T> unwrap(Map<String, T> state) {
        String prefix = wrapperPrefix(state.keySet());
        return prefix.isEmpty() ? new LinkedHashMap<>(state) : select(state, prefix);
    }

    /**
     * Keeps the entries under {@code prefix} (e.g. {@code "sparse_encoder.sp_cnn."}, {@code "encoder."},
     * {@code "module."}), with the prefix removed; this is also how to unwrap a prefix explicitly. A missing trailing
     * dot is added; an empty prefix selects everything.
     *
     * @throws IllegalArgumentException when no key is under the prefix, listing the top-level prefixes that exist
     */
    public static <T> Map<String, T> select(Map<String, T> state, String prefix) {
        String p = normalisePrefix(prefix);
        Map<String, T> out = new LinkedHashMap<>();
        for (Map.Entry<String, T> e : state.entrySet()) {
            if (e.getKey().startsWith(p) && e.getKey().length() > p.length()) {
                out.put(e.getKey().substring(p.length()), e.getValue());
            }
        }
        if (out.isEmpty() && !state.isEmpty()) {
            throw new IllegalArgumentException("no key starts with '" + p + "'; top-level prefixes: "
                    + describePrefixes(state.keySet(), 12));
        }
        return out;
    }

    /**
     * Where {@code prefix} actually sits: {@code prefix} itself when keys start with it, otherwise a wrapper chain in
     * front of it ({@code "module." + prefix}, {@code "model.module." + prefix}, ...) under which keys exist, so that
     * a SparK checkpoint converted together with its optimizer state still finds {@code sparse_encoder.sp_cnn.}.
     *
     * @return the full prefix, or {@code null} when no key is under {@code prefix} at any wrapper depth
     * @throws IllegalArgumentException when the prefix exists under two different wrappers
     */
    public static String locate(Collection<String> keys, String prefix) {
        String p = normalisePrefix(prefix);
        List<String> candidates = new ArrayList<>(List.of(""));
        for (int depth = 0; depth < 3; depth++) {
            List<String> hits = new ArrayList<>();
            for (String w : candidates) {
                if (keys.stream().anyMatch(k -> k.startsWith(w + p))) {
                    hits.add(w + p);
                }
            }
            if (hits.size() == 1) {
                return hits.get(0);
            }
            if (hits.size() > 1) {
                throw new IllegalArgumentException("'" + p + "' is ambiguous: keys exist under " + hits);
            }
            List<String> deeper = new ArrayList<>();
            for (String w : candidates) {
                for (String wrapper : WRAPPER_PREFIXES) {
                    deeper.add(w + wrapper);
                }
            }
            candidates = deeper;
        }
        return null;
    }

    /**
     * True for MAE's pretraining-decoder keys, which a ViT encoder ignores: {@code decoder_*} and {@code mask_token}.
     */
    public static boolean isMaeDecoderKey(String key) {
        return key.startsWith("decoder_") || key.equals("mask_token");
    }

    /** The state without MAE's decoder keys ({@link #isMaeDecoderKey}). */
    public static <T> Map<String, T> withoutMaeDecoder(Map<String, T> state) {
        return filter(state, k -> !isMaeDecoderKey(k));
    }

    /** The entries whose key satisfies {@code keep}, in order. */
    public static <T> Map<String, T> filter(Map<String, T> state, Predicate<String> keep) {
        Map<String, T> out = new LinkedHashMap<>();
        state.forEach((k, v) -> {
            if (keep.test(k)) {
                out.put(k, v);
            }
        });
        return out;
    }

    /** Every key with {@code prefix} in front (the inverse of {@link #select}). */
    public static <T> Map<String, T> addPrefix(Map<String, T> state, String prefix) {
        Objects.requireNonNull(prefix, "prefix");
        Map<String, T> out = new LinkedHashMap<>();
        state.forEach((k, v) -> out.put(prefix + k, v));
        return out;
    }

    /**
     * Floating-point tensors (HALF, BFLOAT16, DOUBLE, ...) cast to FLOAT; FLOAT and integer tensors (such as
     * {@code num_batches_tracked}) are kept as they are. F16 and BF16 convert exactly.
     */
    public static Map<String, INDArray> toFloat(Map<String, INDArray> state) {
        Map<String, INDArray> out = new LinkedHashMap<>();
        state.forEach((k, v) -> out.put(k, v.dataType().isFPType() && v.dataType() != DataType.FLOAT
                ? v.castTo(DataType.FLOAT) : v));
        return out;
    }

    /** The shapes of a state dict, by key. */
    public static Map<String, long[]> shapes(Map<String, INDArray> state) {
        Map<String, long[]> out = new LinkedHashMap<>();
        state.forEach((k, v) -> out.put(k, v.shape()));
        return out;
    }

    /** The {@link TensorSpec}s of a state dict, by key. */
    public static Map<String, TensorSpec> specs(Map<String, INDArray> state) {
        Map<String, TensorSpec> out = new LinkedHashMap<>();
        state.forEach((k, v) -> out.put(k, TensorSpec.of(v)));
        return out;
    }

    /** The first dotted component of each key with its count, in first-seen order: {@code model -> 150}. */
    public static Map<String, Integer> topLevelPrefixes(Collection<String> keys) {
        Map<String, Integer> out = new LinkedHashMap<>();
        for (String k : keys) {
            int dot = k.indexOf('.');
            out.merge(dot < 0 ? k : k.substring(0, dot), 1, Integer::sum);
        }
        return out;
    }

    /** {@code "model (150), optimizer (300)"}, at most {@code max} entries and then {@code "... (n more)"}. */
    public static String describePrefixes(Collection<String> keys, int max) {
        return describeCounts(topLevelPrefixes(keys), max);
    }

    /** {@code "model (150), optimizer (300)"} from names with counts, at most {@code max} entries. */
    public static String describeCounts(Map<String, Integer> top, int max) {
        StringBuilder sb = new StringBuilder();
        int i = 0;
        for (Map.Entry<String, Integer> e : top.entrySet()) {
            if (i == max) {
                sb.append(", ... (").append(top.size() - max).append(" more)");
                break;
            }
            sb.append(i++ == 0 ? "" : ", ").append(e.getKey()).append(" (").append(e.getValue()).append(')');
        }
        return top.isEmpty() ? "none" : sb.toString();
    }

    private static String normalisePrefix(String prefix) {
        Objects.requireNonNull(prefix, "prefix");
        return prefix.isEmpty() || prefix.endsWith(".") ? prefix : prefix + ".";
    }
}
