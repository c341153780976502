package io.hgkd.models.checkpoint;

import io.hgkd.core.nn.LoadReport;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Builds and formats {@link LoadReport}s without a module: the same comparison as
 * {@link io.hgkd.core.nn.Module#loadStateDict}, on key-to-shape maps, and a readable multi-line summary.
 */
public final class LoadReports {
    /** Keys listed per category in summaries before "... and N more". */
    public static final int DEFAULT_LISTED = 20;

    private LoadReports() {
    }

    /**
     * Compares a target (what a module expects) with a source (what a checkpoint has), exactly as
     * {@code Module.loadStateDict} does: missing keys in target order, unexpected keys in source order, wrong-shape
     * entries as {@code "key: expected [..], got [..]"}.
     */
    public static LoadReport compare(Map<String, long[]> target, Map<String, long[]> source) {
        List<String> missing = new ArrayList<>();
        List<String> wrongShape = new ArrayList<>();
        for (Map.Entry<String, long[]> e : target.entrySet()) {
            long[] src = source.get(e.getKey());
            if (src == null) {
                missing.add(e.getKey());
            } else if (!Arrays.equals(src, e.getValue())) {
                wrongShape.add(e.getKey() + ": expected " + Arrays.toString(e.getValue()) + ", got "
                        + Arrays.toString(src));
            }
        }
        List<String> unexpected = new ArrayList<>();
        for (String k : source.keySet()) {
            if (!target.containsKey(k)) {
                unexpected.add(k);
            }
        }
        return new LoadReport(missing, unexpected, wrongShape);
    }

    /** The number of keys that matched by name and shape, given the target's key count. */
    public static int matched(LoadReport report, int targetKeys) {
        return targetKeys - report.missing().size() - report.wrongShape().size();
    }

    /**
     * A readable summary, one category a line, at most {@code maxListed} keys each:
     * <pre>
     * 2 missing: head.weight, head.bias
     * 1 unexpected: decoder_embed.weight
     * 1 wrong shape: pos_embed: expected [1, 197, 768], got [1, 257, 768]
     * </pre>
     * Empty categories are left out; a clean report gives {@code "all keys match"}.
     */
    public static String format(LoadReport report, int maxListed) {
        if (report.isClean()) {
            return "all keys match";
        }
        StringBuilder sb = new StringBuilder();
        append(sb, "missing", report.missing(), maxListed);
        append(sb, "unexpected", report.unexpected(), maxListed);
        append(sb, "wrong shape", report.wrongShape(), maxListed);
        return sb.toString();
    }

    private static void append(StringBuilder sb, String what, List<String> keys, int max) {
        if (keys.isEmpty()) {
            return;
        }
        if (sb.length() > 0) {
            sb.append('\n');
        }
        sb.append(keys.size()).append(' ').append(what).append(": ");
        int shown = Math.min(max, keys.size());
        sb.append(String.join(", ", keys.subList(0, shown)));
        if (shown < keys.size()) {
            sb.append(", ... and ").append(keys.size() - shown).append(" more");
        }
    }
}
